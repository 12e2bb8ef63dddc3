"""Resources every service opens in its lifespan: the database pool, the usage ledger and its writer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import msgspec

from apps.common.container import ReadinessCheck
from domain.ledger.application import UsageLedger
from infra.identity.pg_identity_store import PgIdentityStore
from infra.identity.synced_index import SyncedKeyIndex
from infra.ledger.event_store import ledger_recorder, open_ledger
from infra.ledger.group_commit import GroupCommitRecorder, PerRequestRecorder
from infra.platform.clock import SystemClock
from infra.platform.db import create_pool, database_url


class Core(msgspec.Struct):
    pool: Any
    ledger: UsageLedger
    recorder: GroupCommitRecorder | PerRequestRecorder
    url: str
    authenticator: SyncedKeyIndex


@asynccontextmanager
async def open_core(ledger_mode: str = "group_commit", pool_size: int = 10) -> AsyncIterator[Core]:
    url = database_url()
    pool = await create_pool(url, min_size=1, max_size=pool_size)
    try:
        async with open_ledger_writer(url, ledger_mode) as (ledger, recorder):
            authenticator = await open_authenticator(pool)
            try:
                yield Core(pool, ledger, recorder, url, authenticator)
            finally:
                await authenticator.aclose()
    finally:
        await pool.close()


@asynccontextmanager
async def open_ledger_writer(
    url: str, ledger_mode: str,
) -> AsyncIterator[tuple[UsageLedger, GroupCommitRecorder | PerRequestRecorder]]:
    """The usage ledger and its writer, closed in order (the writer's last batch first)."""
    ledger = await asyncio.to_thread(open_ledger, url)
    recorder = ledger_recorder(ledger, ledger_mode)
    try:
        yield ledger, recorder
    finally:
        await asyncio.to_thread(recorder.close)
        await asyncio.to_thread(ledger.close)


async def open_authenticator(pool: Any) -> SyncedKeyIndex:
    """The process's index of keys, following the database's changes until `aclose()`."""
    authenticator = SyncedKeyIndex(PgIdentityStore(pool), SystemClock())
    await authenticator.start()
    return authenticator


async def database_ready(pool: Any) -> None:
    async with pool.acquire() as connection:
        await connection.fetchval("SELECT 1")


class OnCore:
    """What every container holding a `core` answers alike: its callers' keys are the core's index, and it is
    ready when the database answers (a container with more to check extends `readiness`)."""

    core: Core

    @property
    def authenticator(self) -> SyncedKeyIndex:
        return self.core.authenticator

    def readiness(self) -> Mapping[str, ReadinessCheck]:
        return {"database": lambda: database_ready(self.core.pool)}
