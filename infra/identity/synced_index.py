"""The process's copy of every key and agent, kept within a second of the database.

A background task asks the store for what changed since its last position every `interval_s` (0.25 s), so
a key revoked in any process stops working everywhere within a second, without a database round trip
per request. A key that is not in the copy yet (issued a moment ago elsewhere) is looked up once. When
the copy has not been refreshed for `max_staleness_s`, requests are refused (503) rather than trusting
keys that may have been revoked meanwhile: identity fails closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from domain.identity.authentication import KeyIndex, UnknownKey
from domain.identity.keys import AgentRecord
from domain.identity.ports import IdentityStore
from domain.identity.principal import Principal
from domain.kernel.clock import Clock
from domain.kernel.errors import ServiceUnavailable

log = logging.getLogger(__name__)


class SyncedKeyIndex:
    def __init__(self, store: IdentityStore, clock: Clock, interval_s: float = 0.25,
                 max_staleness_s: float = 5.0) -> None:
        self._store = store
        self._clock = clock
        self._interval_s = interval_s
        self._max_staleness_s = max_staleness_s
        self._index = KeyIndex()
        self._position = 0
        self._synced_at = 0.0
        self._task: asyncio.Task[None] | None = None

    @property
    def index(self) -> KeyIndex:
        return self._index

    async def start(self) -> None:
        await self.refresh()
        self._task = asyncio.create_task(self._follow())

    async def refresh(self) -> None:
        position, keys, agents = await self._store.changes_since(self._position)
        self._index.apply(keys, agents)
        self._position = position
        self._synced_at = time.monotonic()

    async def authenticate(self, presented: str | None) -> Principal:
        if time.monotonic() - self._synced_at > self._max_staleness_s:
            raise ServiceUnavailable("the key store cannot be reached; credentials cannot be checked now")
        try:
            return self._index.authenticate(presented, self._clock.now())
        except UnknownKey as unknown:  # only then a database read: the hot path parses and hashes once
            await self._look_up(unknown.key_id)
        return self._index.authenticate(presented, self._clock.now())

    async def agent(self, agent_id: str) -> AgentRecord | None:
        """The agent as stored; one registered a moment ago elsewhere is looked up once."""
        found = self._index.agent(agent_id)
        if found is None and (found := await self._store.agent(agent_id)) is not None:
            self._index.apply([], [found])
        return found

    async def _look_up(self, key_id: str) -> None:
        record = await self._store.key(key_id)
        if record is None:
            return
        agent = await self._store.agent(record.agent_id) if record.agent_id else None
        self._index.apply([record], [agent] if agent else [])

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a database blip; staleness decides when to refuse
                log.warning("refreshing API keys failed (%s); retrying", type(exc).__name__)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
