"""Acting for an agent: an operator key with `llm:on_behalf` may name the agent an LLM call is for.

The call is then that agent's in every way the books care about (its limits, budgets and usage rows), and
its ledger event still names the key that made it. Only a registered, enabled agent of the stated microDAO
can be named; every other key naming an agent gets what `Principal.tenant` says (its own, or 403).
"""

from __future__ import annotations

from domain.identity.keys import AgentRecord
from domain.identity.principal import Principal, Tenant
from domain.identity.scopes import Scope
from domain.kernel.errors import IdentityMismatch, InvalidRequest, UnknownAgent


def may_act_for_agents(principal: Principal) -> bool:
    return principal.is_operator and Scope.LLM_ON_BEHALF in principal.scopes


def acting_for(principal: Principal, agent_id: str | None, microdao_id: str | None,
               agent: AgentRecord | None) -> Tenant:
    """The agent a call is for: the one named (with `agent`, its stored record) by a delegating key, else the
    key's own (`Principal.tenant`)."""
    if not may_act_for_agents(principal):
        return principal.tenant(agent_id, microdao_id)
    if agent_id is None or microdao_id is None:
        raise InvalidRequest("a call on behalf of an agent names both the agent and its microDAO "
                             "(x-daarion-agent-id, x-daarion-microdao-id)")
    if agent is None or agent.disabled_at is not None:
        raise UnknownAgent(f"agent '{agent_id}' is not registered (or was disabled)")
    if agent.microdao_id != microdao_id:
        raise IdentityMismatch(f"agent '{agent_id}' does not belong to '{microdao_id}'")
    return Tenant(agent.agent_id, agent.microdao_id)
