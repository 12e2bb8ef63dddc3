"""AdmissionControl's budgets: InMemoryAdmissionControl and PgAdmissionControl reserve a call's worst case on
every budget line, settle it to the real cost, and never let spent plus reserved pass a budget, alike."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest

from domain.llm.admission import Admission, BudgetLine, OverBudget
from domain.llm.policies import RateLimit
from tests.contracts.spend_world import MONTH, World, fake_world, postgres_world
from tests.contracts.support import BOTH, unique

ROOMY = RateLimit(requests_per_minute=1_000, tokens_per_minute=1_000_000)


@pytest.fixture(params=BOTH, name="world")
def world_fixture(request: pytest.FixtureRequest) -> World:
    return fake_world() if request.param == "fake" else postgres_world(request)


async def admit(world: World, cost: str, *lines: BudgetLine, agent: str | None = None) -> Admission:
    return await world.control.admit(world.ticket(cost=cost, budgets=lines, limit=ROOMY, agent=agent))


async def test_a_call_that_fits_reserves_its_worst_case_on_every_line_and_reports_the_least_left(world: World) -> None:
    agent, microdao = world.agent_budget("1"), world.microdao_budget("0.5")
    admission = await admit(world, "0.2", agent, microdao)
    assert admission.quota.budget_left_usd == Decimal("0.3")
    assert await world.spend_of(agent) == (0, Decimal("0.2"))
    assert await world.spend_of(microdao) == (0, Decimal("0.2"))


async def test_settling_replaces_the_reservation_by_the_real_cost(world: World) -> None:
    line = world.agent_budget("1")
    admission = await admit(world, "0.2", line)
    await world.control.settle(admission, 5, Decimal("0.0123"))
    await world.settled()
    assert await world.spend_of(line) == (Decimal("0.0123"), 0)


async def test_a_failed_call_settled_at_nothing_gives_its_reservation_back(world: World) -> None:
    line = world.agent_budget("0.3")
    admission = await admit(world, "0.2", line)
    await world.control.settle(admission, 0, Decimal(0))
    await world.settled()
    assert await world.spend_of(line) == (0, 0)
    await admit(world, "0.3", line)


async def test_a_call_whose_worst_case_does_not_fit_is_refused_and_takes_nothing(world: World) -> None:
    agent, microdao = world.agent_budget("1"), world.microdao_budget("0.25")
    await admit(world, "0.2", agent, microdao)
    with pytest.raises(OverBudget, match=f"microdao {world.microdao}") as refused:
        await admit(world, "0.1", agent, microdao)
    assert refused.value.quota.budget_left_usd == Decimal("0.05")
    assert refused.value.quota.rate is not None and refused.value.quota.rate.remaining_requests == 999
    assert await world.spend_of(agent) == (0, Decimal("0.2")), "nothing reserved on the line that had room"
    await admit(world, "0.05", agent, microdao)


async def test_an_exhausted_budget_refuses_even_a_free_call(world: World) -> None:
    line = world.agent_budget("0.1")
    admission = await admit(world, "0.1", line)
    await world.control.settle(admission, 5, Decimal("0.1"))
    await world.settled()
    with pytest.raises(OverBudget, match="exhausted"):
        await admit(world, "0", line)


async def test_concurrent_calls_never_reserve_past_the_budget(world: World) -> None:
    line = world.microdao_budget("0.55")
    agents = [unique("agent:crowd") for _ in range(12)]
    results = await asyncio.gather(*(admit(world, "0.1", line, agent=a) for a in agents), return_exceptions=True)
    assert sum(isinstance(r, Admission) for r in results) == 5
    assert all(isinstance(r, OverBudget) for r in results if not isinstance(r, Admission))
    assert await world.spend_of(line) == (0, Decimal("0.5"))


async def test_a_key_s_budget_is_its_own(world: World) -> None:
    key = BudgetLine("key", unique("key"), Decimal("0.1"))
    await admit(world, "0.1", key)
    with pytest.raises(OverBudget, match=f"key {key.subject}"):
        await admit(world, "0.01", key)
    await admit(world, "0.01", BudgetLine("key", unique("key"), Decimal("0.1")))


async def test_a_month_s_spend_starts_from_what_the_usage_projection_shows_for_it(world: World) -> None:
    await world.project(world.agent, world.microdao, MONTH + timedelta(days=3), Decimal("0.75"))
    await world.project(world.agent, world.microdao, MONTH - timedelta(days=1), Decimal(9))  # last month's
    line = world.agent_budget("1")
    with pytest.raises(OverBudget):
        await admit(world, "0.3", line)
    await admit(world, "0.25", line)
    assert await world.spend_of(line) == (Decimal("0.75"), Decimal("0.25"))


async def test_a_new_month_starts_a_budget_afresh(world: World) -> None:
    line = world.agent_budget("0.1")
    admission = await admit(world, "0.1", line)
    await world.control.settle(admission, 5, Decimal("0.1"))
    await world.settled()
    world.clock.at = world.clock.at.replace(month=12, day=1, hour=0)
    await admit(world, "0.1", line)
    assert await world.spend_of(line, MONTH.replace(month=12)) == (0, Decimal("0.1"))
