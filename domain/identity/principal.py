"""The caller of a request, as its credential says: never as the request body says."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.identity.scopes import AGENT_ONLY_SCOPES, Scope
from domain.kernel.errors import AgentKeyRequired, IdentityMismatch, InsufficientScope

# Spending as an agent is granted by name only: admin alone neither calls the LLM nor acts for agents.
_NOT_BY_ADMIN = frozenset({Scope.LLM, Scope.LLM_ON_BEHALF})


@dataclass(frozen=True, slots=True)
class Tenant:
    """The agent a request acts as, and its microDAO."""

    agent_id: str
    microdao_id: str


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    agent_id: str | None          # None: an operator key, bound to no agent
    microdao_id: str | None
    scopes: frozenset[Scope]
    monthly_budget_usd: Decimal | None = None

    @property
    def is_operator(self) -> bool:
        return self.agent_id is None

    def may(self, scope: Scope) -> bool:
        return scope in self.scopes or (Scope.ADMIN in self.scopes and scope not in _NOT_BY_ADMIN)

    def require(self, scope: Scope) -> None:
        if self.may(scope):
            return
        if self.is_operator and scope in AGENT_ONLY_SCOPES:
            # What is wrong is the kind of key, not a scope an operator key could be given.
            raise AgentKeyRequired(f"'{scope}' is done as an agent: call this route with that agent's own key")
        raise InsufficientScope(f"this key lacks the '{scope}' scope")

    def tenant(self, agent_id: str | None = None, microdao_id: str | None = None) -> Tenant:
        """The agent this key acts as. A request may name its agent and microDAO (old clients do); naming
        any other is refused, so a body can never widen what the key grants."""
        if self.agent_id is None or self.microdao_id is None:
            raise AgentKeyRequired("this route acts as one agent: call it with that agent's own key")
        if agent_id is not None and agent_id != self.agent_id:
            raise IdentityMismatch(f"this key belongs to '{self.agent_id}', not '{agent_id}'")
        self.check_microdao(microdao_id)
        return Tenant(self.agent_id, self.microdao_id)

    def check_microdao(self, microdao_id: str | None) -> None:
        if microdao_id is not None and microdao_id != self.microdao_id:
            raise IdentityMismatch(
                f"this key belongs to '{self.agent_id}' of '{self.microdao_id}', not of '{microdao_id}'")
