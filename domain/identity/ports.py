"""What identity needs from storage: agents and keys, and the changes since a point (for caches)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.identity.keys import AgentRecord, KeyRecord
from domain.identity.principal import Principal


class IdentityStore(Protocol):
    async def register_agent(self, agent: AgentRecord) -> AgentRecord:
        """Stores the agent, or returns the one stored under its id (ids are never reassigned)."""
        ...

    async def agent(self, agent_id: str) -> AgentRecord | None: ...

    async def agents(self) -> Sequence[AgentRecord]: ...

    async def disable_agent(self, agent_id: str, at: datetime) -> AgentRecord | None: ...

    async def add_key(self, key: KeyRecord) -> None: ...

    async def key(self, key_id: str) -> KeyRecord | None: ...

    async def keys(self, agent_id: str | None = None) -> Sequence[KeyRecord]: ...

    async def revoke_key(self, key_id: str, at: datetime) -> KeyRecord | None:
        """Marks the key revoked (a second revocation keeps the first time); None when there is no such key."""
        ...

    async def expire_key(self, key_id: str, at: datetime) -> KeyRecord | None: ...

    async def changes_since(self, position: int) -> tuple[int, Sequence[KeyRecord], Sequence[AgentRecord]]:
        """(the latest position, keys and agents changed after `position`); position 0 means everything."""
        ...


class Authenticator(Protocol):
    async def authenticate(self, presented: str | None) -> Principal:
        """The principal of a presented key. Raises Unauthenticated (none, unknown, revoked, expired),
        UnknownAgent (its agent is gone), ServiceUnavailable (keys cannot be checked now)."""
        ...
