"""Managing principals: registering agents, issuing, rotating and revoking keys. Each change is also a
ledger entry, so the audit trail is the same event store as usage."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from eventsourcing.domain import Aggregate

from domain.identity.keys import AgentRecord, KeyRecord, digest, key_id_of, new_key
from domain.identity.ports import IdentityStore
from domain.identity.scopes import MICRODAO_OPERATOR_SCOPES, OPERATOR_GRANTABLE, OPERATOR_SCOPES, Scope
from domain.kernel.clock import Clock
from domain.kernel.errors import Conflict, InvalidRequest, NotFound, UnknownAgent
from domain.ledger.events import AgentDisabled, AgentRegistered, ApiKeyIssued, ApiKeyRevoked, LedgerEntry
from domain.ledger.ports import UsageRecorder

MAX_BUDGET_USD = Decimal(10) ** 9  # what the spend columns hold with room to spare

# Entry ids derive from what they record, so a retried change is recorded once.
_AUDIT = uuid.UUID("5a3c1f0e-8d1b-4f4e-9a57-0c1d2e3f4a5b")


@dataclass(frozen=True, slots=True)
class IssuedKey:
    record: KeyRecord
    key: str          # shown once, never stored


class IdentityAdmin:
    def __init__(self, store: IdentityStore, recorder: UsageRecorder, clock: Clock,
                 allow_unregistered_agents: bool = False) -> None:
        self._store = store
        self._recorder = recorder
        self._clock = clock
        self._allow_unregistered = allow_unregistered_agents

    @property
    def store(self) -> IdentityStore:
        return self._store

    async def register_agent(self, agent_id: str, microdao_id: str, actor: str,
                             display_name: str | None = None) -> AgentRecord:
        stored = await self._store.register_agent(AgentRecord(agent_id, microdao_id, display_name))
        if stored.microdao_id != microdao_id:
            raise Conflict(f"agent '{agent_id}' is registered in '{stored.microdao_id}', not '{microdao_id}'")
        await self._audit(AgentRegistered, f"agent:{agent_id}", agent_id=agent_id, microdao_id=microdao_id,
                          actor=actor)
        return stored

    async def disable_agent(self, agent_id: str, actor: str) -> AgentRecord:
        agent = await self._store.disable_agent(agent_id, self._clock.now())
        if agent is None:
            raise NotFound(f"no agent '{agent_id}'")
        await self._audit(AgentDisabled, f"agent-disabled:{agent_id}", agent_id=agent_id,
                          microdao_id=agent.microdao_id, actor=actor)
        return agent

    async def agents(self) -> Sequence[AgentRecord]:
        return await self._store.agents()

    async def issue_key(
        self, agent_id: str | None, scopes: frozenset[Scope], actor: str, *, microdao_id: str | None = None,
        name: str = "", expires_in: timedelta | None = None, monthly_budget_usd: Decimal | None = None,
        replaces: str | None = None,
    ) -> IssuedKey:
        """A key for `agent_id` (None: an operator key; with `microdao_id`, one that sees only that microDAO).
        An unregistered agent is refused unless the deployment allows them and `microdao_id` says where it
        belongs (it is registered then)."""
        agent = await self._agent_for_key(agent_id, microdao_id, scopes, actor)
        if expires_in is not None and expires_in <= timedelta(0):
            raise InvalidRequest("a key's lifetime must be positive")
        if monthly_budget_usd is not None and not (
                monthly_budget_usd.is_finite() and 0 <= monthly_budget_usd <= MAX_BUDGET_USD):
            raise InvalidRequest(f"a key's monthly budget must be an amount of USD from 0 to {MAX_BUDGET_USD}")
        key_id, key = new_key()
        now = self._clock.now()
        record = KeyRecord(
            key_id, digest(key), agent.agent_id if agent else None, agent.microdao_id if agent else microdao_id,
            scopes, name, monthly_budget_usd, now, now + expires_in if expires_in else None,
        )
        await self._store.add_key(record)
        await self._audit(
            ApiKeyIssued, f"key:{key_id}", key_id=key_id, agent_id=record.agent_id, microdao_id=record.microdao_id,
            scopes=sorted(scopes), name=name,
            expires_at=record.expires_at.isoformat() if record.expires_at else None,
            monthly_budget_usd=monthly_budget_usd, actor=actor, replaces_key_id=replaces,
        )
        return IssuedKey(record, key)

    async def revoke_key(self, key_id: str, actor: str) -> KeyRecord:
        now = self._clock.now()
        record = await self._store.revoke_key(key_id, now)
        if record is None:
            raise NotFound(f"no API key '{key_id}'")
        await self._audit(ApiKeyRevoked, f"key-revoked:{key_id}", key_id=key_id, agent_id=record.agent_id,
                          microdao_id=record.microdao_id, actor=actor, reason="revoked",
                          effective_at=(record.revoked_at or now).isoformat())
        return record

    async def rotate_key(self, key_id: str, actor: str, grace: timedelta = timedelta(0)) -> IssuedKey:
        """A new key with the old one's agent, scopes, name and budget; the old one stops working now, or
        after `grace` so clients can switch without an outage."""
        old = await self._store.key(key_id)
        if old is None:
            raise NotFound(f"no API key '{key_id}'")
        if not old.is_valid_at(self._clock.now()):
            raise Conflict(f"API key '{key_id}' is already revoked or expired")
        lifetime = old.expires_at - old.created_at if old.expires_at and old.created_at else None
        issued = await self.issue_key(old.agent_id, old.scopes, actor, microdao_id=old.microdao_id, name=old.name,
                                      expires_in=lifetime,
                                      monthly_budget_usd=old.monthly_budget_usd, replaces=key_id)
        ends = self._clock.now() + grace
        if grace > timedelta(0):
            await self._store.expire_key(key_id, ends)
        else:
            await self._store.revoke_key(key_id, ends)
        await self._audit(ApiKeyRevoked, f"key-revoked:{key_id}", key_id=key_id, agent_id=old.agent_id,
                          microdao_id=old.microdao_id, actor=actor, reason="rotated", effective_at=ends.isoformat())
        return issued

    async def adopt_operator_key(self, key: str, actor: str) -> KeyRecord:
        """Registers an operator key made outside (a deployment's bootstrap secret) unless it is there."""
        key_id = key_id_of(key)
        if key_id is None:
            raise InvalidRequest("not a DAARION key (expected dk_<16 hex>_<43 characters>; make one with "
                                 "`daarion keys generate-env`)")
        known = await self._store.key(key_id)
        if known is not None:
            if not known.matches(key):
                raise Conflict(f"another key already has the id {key_id}")
            return known
        record = KeyRecord(key_id, digest(key), None, None, OPERATOR_SCOPES, "bootstrap", None, self._clock.now())
        await self._store.add_key(record)
        await self._audit(ApiKeyIssued, f"key:{key_id}", key_id=key_id, agent_id=None, microdao_id=None,
                          scopes=sorted(OPERATOR_SCOPES), name="bootstrap", expires_at=None, monthly_budget_usd=None,
                          actor=actor)
        return record

    async def keys(self, agent_id: str | None = None) -> Sequence[KeyRecord]:
        return await self._store.keys(agent_id)

    async def _agent_for_key(self, agent_id: str | None, microdao_id: str | None, scopes: frozenset[Scope],
                             actor: str) -> AgentRecord | None:
        if agent_id is None:
            if not scopes <= OPERATOR_GRANTABLE:
                raise InvalidRequest(f"an operator key (no agent) takes only {', '.join(sorted(OPERATOR_GRANTABLE))}")
            if microdao_id is not None and not scopes <= MICRODAO_OPERATOR_SCOPES:
                # A microDAO's own operators read their usage and health; an admin manages their keys.
                raise InvalidRequest("an operator key of one microDAO takes only "
                                     f"{', '.join(sorted(MICRODAO_OPERATOR_SCOPES))} ('admin' and 'metrics:read' "
                                     "span every microDAO)")
            return None
        if refused := scopes & {Scope.ADMIN, Scope.LLM_ON_BEHALF}:
            raise InvalidRequest(f"an agent's key cannot have the '{min(refused)}' scope")
        agent = await self._store.agent(agent_id)
        if agent is None:
            if not self._allow_unregistered or microdao_id is None:
                raise UnknownAgent(f"agent '{agent_id}' is not registered; register it first (POST /admin/agents)")
            agent = await self.register_agent(agent_id, microdao_id, actor)
        if agent.disabled_at is not None:
            raise UnknownAgent(f"agent '{agent_id}' is disabled")
        if microdao_id is not None and microdao_id != agent.microdao_id:
            raise Conflict(f"agent '{agent_id}' belongs to '{agent.microdao_id}', not '{microdao_id}'")
        return agent

    async def _audit(self, event_class: type[Aggregate.Created], subject: str, **facts: object) -> None:
        entry_id = uuid.uuid5(_AUDIT, f"{event_class.__name__}:{subject}")
        await self._recorder.record(LedgerEntry.of(event_class, entry_id, **facts))
