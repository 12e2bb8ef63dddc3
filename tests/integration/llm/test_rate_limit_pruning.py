"""Pruning the admission control's rate windows on the embedded PostgreSQL: old windows go, current ones stay, and
the periodic loop outlives a failing database call."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from domain.llm.admission import Ticket
from domain.llm.policies import RateLimit
from infra.llm.pg_admission import PgAdmissionControl
from infra.platform.db import create_pool
from tests.fakes.clock import FakeClock

LIMIT = RateLimit(requests_per_minute=100, tokens_per_minute=1_000_000)


@pytest.fixture(name="pool")
async def pool_fixture(database_url: str) -> AsyncIterator[Any]:
    pool = await create_pool(database_url, max_size=2)
    yield pool
    await pool.close()


async def windows_of(pool: Any, agent: str) -> list[int]:
    rows = await pool.fetch("SELECT window_start FROM rate_limit_windows WHERE agent_id = $1 ORDER BY 1", agent)
    return [row["window_start"] for row in rows]


async def admit_at_several_ages(pool: Any, agent: str) -> FakeClock:
    """Windows of `agent` 3 h, 2 h, 30 min and 0 min old; the clock it returns reads now."""
    now = datetime.now(UTC)
    clock = FakeClock(now)
    limiter = PgAdmissionControl(pool, clock)
    for age_s in (3 * 3600, 2 * 3600, 1800, 0):
        clock.at = now - timedelta(seconds=age_s)
        await limiter.admit(Ticket(agent, "microdao:prune", LIMIT, 10))
    clock.at = now
    return clock


async def test_pruning_removes_windows_older_than_the_keep_period_and_keeps_current_ones(pool: Any) -> None:
    agent = f"agent:prune-{uuid.uuid4().hex[:8]}"
    limiter = PgAdmissionControl(pool, await admit_at_several_ages(pool, agent))
    before = await windows_of(pool, agent)
    assert len(before) == 4

    pruned = await limiter.prune(keep_s=3600)

    assert pruned >= 2
    assert await windows_of(pool, agent) == before[2:], "the 30-minute-old and the current window stay"


class BlippingPool:
    """The pool, except that its first `execute` fails as asyncpg reports a dropped connection (SQLSTATE 08003)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.failures = 0

    async def execute(self, *args: Any) -> str:
        if self.failures == 0:
            self.failures += 1
            raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation")
        return str(await self._inner.execute(*args))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def test_the_pruning_loop_warns_about_a_database_blip_and_prunes_at_the_next_tick(
    pool: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    agent = f"agent:blip-{uuid.uuid4().hex[:8]}"
    clock = await admit_at_several_ages(pool, agent)
    blipping = BlippingPool(pool)
    limiter = PgAdmissionControl(blipping, clock)
    stop = asyncio.Event()
    caplog.set_level(logging.WARNING, logger="infra.llm.pg_admission")

    loop = asyncio.create_task(limiter.prune_every(0.05, stop))
    for _ in range(100):
        if len(await windows_of(pool, agent)) == 2:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(loop, 5)

    assert blipping.failures == 1 and "pruning rate_limit_windows failed" in caplog.text
    assert len(await windows_of(pool, agent)) == 2


async def test_background_pruning_stops_with_the_limiter(pool: Any) -> None:
    agent = f"agent:bg-{uuid.uuid4().hex[:8]}"
    limiter = PgAdmissionControl(pool, await admit_at_several_ages(pool, agent))
    limiter.start_pruning(interval_s=3600)
    for _ in range(100):
        if len(await windows_of(pool, agent)) == 2:
            break
        await asyncio.sleep(0.02)
    await asyncio.wait_for(limiter.aclose(), 5)
    assert len(await windows_of(pool, agent)) == 2
