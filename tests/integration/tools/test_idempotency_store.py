"""PgIdempotencyStore against the embedded Postgres: one runner per key, replays, leases."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from domain.kernel.errors import Conflict
from domain.tools.model import ToolOutcome
from infra.platform.db import create_pool
from infra.tools.pg_idempotency_store import PgIdempotencyStore

SOFIA = ("agent:sofia", "microdao:7")


async def test_one_key_runs_once_replays_after_and_refuses_other_arguments(database_url: str) -> None:
    pool = await create_pool(database_url, max_size=4)
    store, key = PgIdempotencyStore(pool), uuid.uuid4().hex
    try:
        claims = await asyncio.gather(*(store.claim(*SOFIA, key, "task.create", "fp1", 30) for _ in range(5)),
                                      return_exceptions=True)
        assert claims.count(None) == 1  # exactly one of five concurrent callers may run the tool
        assert all(isinstance(c, Conflict) for c in claims if c is not None)
        outcome = ToolOutcome(True, 12.5, result={"id": "t1"})
        await store.complete(*SOFIA, key, outcome)
        assert await store.claim(*SOFIA, key, "task.create", "fp1", 30) == outcome
        with pytest.raises(Conflict):
            await store.claim(*SOFIA, key, "task.create", "fp2", 30)
        assert await store.claim("agent:oleh", "microdao:7", key, "task.create", "fp1", 30) is None  # per agent
    finally:
        await pool.close()


async def test_a_released_or_expired_claim_can_be_taken_again(database_url: str) -> None:
    pool = await create_pool(database_url, max_size=2)
    store, key = PgIdempotencyStore(pool), uuid.uuid4().hex
    try:
        assert await store.claim(*SOFIA, key, "tasks.list", "fp", 30) is None
        await store.release(*SOFIA, key)
        assert await store.claim(*SOFIA, key, "tasks.list", "fp", 0.01) is None
        await asyncio.sleep(0.05)  # the holder "died": its lease ran out
        assert await store.claim(*SOFIA, key, "tasks.list", "fp", 30) is None
    finally:
        await pool.close()


async def test_each_key_is_stored_with_its_agent_s_microdao(database_url: str) -> None:
    pool = await create_pool(database_url, max_size=2)
    store, key = PgIdempotencyStore(pool), uuid.uuid4().hex
    try:
        await store.claim(*SOFIA, key, "task.create", "fp", 30)
        stored = await pool.fetchval("SELECT microdao_id FROM tool_idempotency WHERE idempotency_key = $1", key)
        assert stored == "microdao:7"
    finally:
        await pool.close()
