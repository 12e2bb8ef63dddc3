"""Authentication: which principal a presented key stands for, decided from an in-memory index.

The index holds every key record and agent (a few thousand at most) and is kept current by its owner
(infra/identity/synced_index.py polls the store's changes), so verifying a request costs a hash and a
dict lookup, with no database round trip.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from domain.identity.keys import AgentRecord, KeyRecord, key_id_of
from domain.identity.principal import Principal
from domain.kernel.errors import Unauthenticated, UnknownAgent


class UnknownKey(Unauthenticated):
    """A well-formed key whose id the index does not hold (yet: it may have been issued a moment ago)."""

    def __init__(self, key_id: str) -> None:
        super().__init__("invalid API key")
        self.key_id = key_id


class KeyIndex:
    def __init__(self) -> None:
        self._keys: dict[str, KeyRecord] = {}
        self._agents: dict[str, AgentRecord] = {}

    def apply(self, keys: Iterable[KeyRecord], agents: Iterable[AgentRecord]) -> None:
        for key in keys:
            self._keys[key.key_id] = key
        for agent in agents:
            self._agents[agent.agent_id] = agent

    def agent(self, agent_id: str) -> AgentRecord | None:
        return self._agents.get(agent_id)

    def authenticate(self, presented: str | None, now: datetime) -> Principal:
        if not presented:
            raise Unauthenticated("this endpoint needs a credential: send 'Authorization: Bearer <API key>'")
        key_id = key_id_of(presented)
        if key_id is None:
            raise Unauthenticated("invalid API key")
        record = self._keys.get(key_id)
        if record is None:
            raise UnknownKey(key_id)
        if not record.matches(presented):
            raise Unauthenticated("invalid API key")
        if record.revoked_at is not None:
            raise Unauthenticated(f"API key {record.key_id} has been revoked")
        if not record.is_valid_at(now):
            raise Unauthenticated(f"API key {record.key_id} has expired")
        if record.agent_id is not None:
            agent = self._agents.get(record.agent_id)
            if agent is None or agent.disabled_at is not None:
                raise UnknownAgent(f"agent '{record.agent_id}' is not registered (or was disabled)")
        return record.principal()
