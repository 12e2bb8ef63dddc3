"""RateLimiter: InMemoryRateLimiter and PgRateLimiter admit, refuse and give tokens back alike.

Both read the time from one FakeClock (PgRateLimiter keys its rows by the clock's window, not by the
database's now()), so windows and retry-after values are exact. PgRateLimiter reconciles in batches a
few milliseconds later; `settled` flushes them, as the next batch would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from domain.kernel.errors import RateLimited
from domain.llm.policies import RateLimit
from domain.llm.ports import Admission, RateLimiter
from infra.llm.pg_rate_limiter import PgRateLimiter
from tests.contracts.support import BOTH, unique
from tests.fakes.clock import FakeClock
from tests.fakes.llm import InMemoryRateLimiter

WINDOW_START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LIMIT = RateLimit(requests_per_minute=3, tokens_per_minute=100)


@dataclass
class Limits:
    limiter: RateLimiter
    clock: FakeClock
    settled: Callable[[], Awaitable[None]]
    agent: str

    async def admit(self, tokens: int = 10, limit: RateLimit = LIMIT, agent: str | None = None) -> Admission:
        return await self.limiter.admit(agent or self.agent, limit, tokens)


@pytest.fixture(params=BOTH, name="limits")
def limits_fixture(request: pytest.FixtureRequest) -> Limits:
    clock = FakeClock(WINDOW_START.replace(second=15))
    agent = unique("agent:contract")
    if request.param == "fake":
        async def nothing_pending() -> None:
            return None

        return Limits(InMemoryRateLimiter(clock), clock, nothing_pending, agent)
    limiter = PgRateLimiter(request.getfixturevalue("pg_pool"), clock)
    return Limits(limiter, clock, limiter.flush, agent)


async def test_an_admission_names_its_agent_window_and_reserved_tokens(limits: Limits) -> None:
    admission = await limits.admit(40)
    assert admission == Admission(limits.agent, int(WINDOW_START.timestamp()), 40)


async def test_requests_beyond_the_limit_are_refused_until_the_window_ends(limits: Limits) -> None:
    for _ in range(LIMIT.requests_per_minute):
        await limits.admit()
    with pytest.raises(RateLimited) as refused:
        await limits.admit()
    assert refused.value.retry_after_s == 45, "15 s into a 60 s window"
    limits.clock.advance(45)
    await limits.admit()


async def test_a_request_whose_tokens_would_not_fit_is_refused_but_a_smaller_one_fits(limits: Limits) -> None:
    await limits.admit(70)
    with pytest.raises(RateLimited):
        await limits.admit(31)
    await limits.admit(30)


async def test_concurrent_requests_get_exactly_the_limit(limits: Limits) -> None:
    limit = RateLimit(requests_per_minute=5, tokens_per_minute=1_000)
    results = await asyncio.gather(*(limits.admit(limit=limit) for _ in range(12)), return_exceptions=True)
    assert sum(isinstance(r, Admission) for r in results) == 5
    assert all(isinstance(r, RateLimited) for r in results if not isinstance(r, Admission))


async def test_agents_have_windows_of_their_own(limits: Limits) -> None:
    for _ in range(LIMIT.requests_per_minute):
        await limits.admit()
    await limits.admit(agent=unique("agent:other"))


async def test_reconciling_gives_back_the_tokens_a_call_did_not_use(limits: Limits) -> None:
    admission = await limits.admit(90)
    await limits.limiter.reconcile(admission, 20)
    await limits.settled()
    await limits.admit(80)
    with pytest.raises(RateLimited):
        await limits.admit(1)


async def test_reconciling_charges_the_tokens_a_call_used_beyond_its_reservation(limits: Limits) -> None:
    admission = await limits.admit(10)
    await limits.limiter.reconcile(admission, 60)
    await limits.settled()
    with pytest.raises(RateLimited):
        await limits.admit(41)
    await limits.admit(40)


async def test_reconciling_never_takes_a_window_below_zero_tokens(limits: Limits) -> None:
    first = await limits.admit(50)
    await limits.limiter.reconcile(first, 0)
    await limits.limiter.reconcile(first, 0)  # a duplicate must not bank credit for later
    await limits.settled()
    await limits.admit(100)
    with pytest.raises(RateLimited):
        await limits.admit(1)
