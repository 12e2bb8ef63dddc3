"""The IdentityStore twin: agents and keys in dicts, with the change positions a cache follows."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from domain.identity.keys import AgentRecord, KeyRecord


class InMemoryIdentityStore:
    def __init__(self) -> None:
        self._agents: dict[str, tuple[int, AgentRecord]] = {}
        self._keys: dict[str, tuple[int, KeyRecord]] = {}
        self._positions = itertools.count(1)

    async def register_agent(self, agent: AgentRecord) -> AgentRecord:
        if agent.agent_id not in self._agents:
            self._agents[agent.agent_id] = (next(self._positions), agent)
        return self._agents[agent.agent_id][1]

    async def agent(self, agent_id: str) -> AgentRecord | None:
        found = self._agents.get(agent_id)
        return found[1] if found else None

    async def agents(self) -> Sequence[AgentRecord]:
        return [agent for _, agent in sorted(self._agents.values(), key=lambda item: item[1].agent_id)]

    async def disable_agent(self, agent_id: str, at: datetime) -> AgentRecord | None:
        found = self._agents.get(agent_id)
        if found is None:
            return None
        agent = replace(found[1], disabled_at=found[1].disabled_at or at)
        self._agents[agent_id] = (next(self._positions), agent)
        return agent

    async def add_key(self, key: KeyRecord) -> None:
        if key.key_id in self._keys:
            raise ValueError(f"duplicate key id {key.key_id}")
        self._keys[key.key_id] = (next(self._positions), key)

    async def key(self, key_id: str) -> KeyRecord | None:
        found = self._keys.get(key_id)
        return found[1] if found else None

    async def keys(self, agent_id: str | None = None) -> Sequence[KeyRecord]:
        return [key for _, key in self._keys.values() if agent_id is None or key.agent_id == agent_id]

    async def revoke_key(self, key_id: str, at: datetime) -> KeyRecord | None:
        return self._change(key_id, lambda key: replace(key, revoked_at=key.revoked_at or at))

    async def expire_key(self, key_id: str, at: datetime) -> KeyRecord | None:
        return self._change(key_id, lambda key: replace(key, expires_at=min(key.expires_at or at, at)))

    async def changes_since(self, position: int) -> tuple[int, Sequence[KeyRecord], Sequence[AgentRecord]]:
        keys = [key for seq, key in self._keys.values() if seq > position]
        agents = [agent for seq, agent in self._agents.values() if seq > position]
        latest = max([position, *(seq for seq, _ in self._keys.values()), *(seq for seq, _ in self._agents.values())])
        return latest, keys, agents

    def _change(self, key_id: str, change: object) -> KeyRecord | None:
        found = self._keys.get(key_id)
        if found is None:
            return None
        key = change(found[1])  # type: ignore[operator]
        self._keys[key_id] = (next(self._positions), key)
        return key
