"""AdmissionControl's rate limits: InMemoryAdmissionControl and PgAdmissionControl admit, refuse and give
tokens back alike, over sliding one-minute windows (see tests/contracts/spend_world.py for the clock)."""

from __future__ import annotations

import asyncio

import pytest

from domain.kernel.errors import RateLimited
from domain.llm.admission import Admission, OverRateLimit
from domain.llm.policies import RateLimit
from domain.llm.windows import RateState
from tests.contracts.spend_world import LIMIT, MONTH, WINDOW_START, World, fake_world, postgres_world
from tests.contracts.support import BOTH, unique


@pytest.fixture(params=BOTH, name="world")
def world_fixture(request: pytest.FixtureRequest) -> World:
    return fake_world() if request.param == "fake" else postgres_world(request)


async def test_an_admission_names_its_ticket_window_and_month_and_what_is_left(world: World) -> None:
    admission = await world.admit(40)
    assert (admission.ticket, admission.window_start, admission.month) == (
        world.ticket(40), int(WINDOW_START.timestamp()), MONTH)
    assert admission.quota.rate == RateState(3, 2, 105.0, 100, 60, 105.0), "forgotten once the next window ends"
    assert admission.quota.budget_left_usd is None


async def test_requests_beyond_the_limit_are_refused_until_enough_of_the_window_has_faded(world: World) -> None:
    for _ in range(LIMIT.requests_per_minute):
        await world.admit()
    with pytest.raises(OverRateLimit) as refused:
        await world.admit()
    assert refused.value.retry_after_s == 45 + 20, "15 s into the window; then a third of it must fade"
    assert refused.value.quota.rate is not None and refused.value.quota.rate.remaining_requests == 0
    world.clock.advance(45 + 19)
    with pytest.raises(RateLimited):
        await world.admit()
    world.clock.advance(1)
    await world.admit()


async def test_a_burst_at_the_end_of_a_window_still_counts_at_the_start_of_the_next(world: World) -> None:
    world.clock.at = WINDOW_START.replace(second=59)
    for _ in range(LIMIT.requests_per_minute):
        await world.admit()
    world.clock.advance(2)  # 1 s into the next window: 3 * 59/60 of the burst still counts
    with pytest.raises(OverRateLimit) as refused:
        await world.admit()
    assert refused.value.retry_after_s == 19, "2 of 3 may still count: at 20 s"
    world.clock.advance(19)
    await world.admit()
    with pytest.raises(RateLimited):
        await world.admit()


async def test_a_request_whose_tokens_would_not_fit_is_refused_but_a_smaller_one_fits(world: World) -> None:
    await world.admit(70)
    with pytest.raises(OverRateLimit, match="tokens per minute"):
        await world.admit(31)
    await world.admit(30)


async def test_concurrent_requests_get_exactly_the_limit(world: World) -> None:
    limit = RateLimit(requests_per_minute=5, tokens_per_minute=1_000)
    results = await asyncio.gather(*(world.admit(limit=limit) for _ in range(12)), return_exceptions=True)
    assert sum(isinstance(r, Admission) for r in results) == 5
    assert all(isinstance(r, OverRateLimit) for r in results if not isinstance(r, Admission))


async def test_agents_have_windows_of_their_own(world: World) -> None:
    for _ in range(LIMIT.requests_per_minute):
        await world.admit()
    await world.admit(agent=unique("agent:other"))


async def test_settling_gives_back_the_tokens_a_call_did_not_use(world: World) -> None:
    admission = await world.admit(90)
    await world.control.settle(admission, 20, admission.ticket.cost_usd)
    await world.settled()
    await world.admit(80)
    with pytest.raises(RateLimited):
        await world.admit(1)


async def test_settling_charges_the_tokens_a_call_used_beyond_its_reservation(world: World) -> None:
    admission = await world.admit(10)
    await world.control.settle(admission, 60, admission.ticket.cost_usd)
    await world.settled()
    with pytest.raises(RateLimited):
        await world.admit(41)
    await world.admit(40)


async def test_settling_never_takes_a_window_below_zero_tokens(world: World) -> None:
    first = await world.admit(50)
    await world.control.settle(first, 0, first.ticket.cost_usd)
    await world.control.settle(first, 0, first.ticket.cost_usd)  # a duplicate must not bank credit for later
    await world.settled()
    await world.admit(100)
    with pytest.raises(RateLimited):
        await world.admit(1)
