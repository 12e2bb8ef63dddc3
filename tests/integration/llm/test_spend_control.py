"""Admission control on the embedded PostgreSQL: exact budgets and sliding windows across processes (two
pools stand for two proxies), settlement, failing closed, and the tenant's row-level security."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from domain.kernel.errors import IdentityMismatch, ServiceUnavailable
from domain.llm.admission import Admission, BudgetLine, OverBudget, OverRateLimit, Ticket
from domain.llm.policies import RateLimit
from infra.llm.pg_admission import PgAdmissionControl
from infra.platform.clock import SystemClock
from infra.platform.db import create_pool
from infra.platform.tenancy import tenant_transaction
from tests.fakes.clock import FakeClock
from tests.support import free_port, unique_id

ROOMY = RateLimit(requests_per_minute=100_000, tokens_per_minute=100_000_000)


@pytest.fixture(name="pools")
async def pools_fixture(database_url: str) -> AsyncIterator[list[Any]]:
    pools = [await create_pool(database_url, max_size=8, durable=False) for _ in range(2)]
    yield pools
    for pool in pools:
        await pool.close()


async def spend_row(pool: Any, scope: str, subject: str) -> tuple[Decimal, Decimal]:
    row = await pool.fetchrow("SELECT spent_usd, reserved_usd FROM llm_spend WHERE scope = $1 AND subject = $2",
                              scope, subject)
    return row["spent_usd"], row["reserved_usd"]


async def test_64_concurrent_calls_through_two_processes_never_pass_a_budget_that_allows_10(pools: list[Any]) -> None:
    controls = [PgAdmissionControl(pool, SystemClock()) for pool in pools]
    microdao = unique_id("microdao:crowd")
    budget = BudgetLine("microdao", microdao, Decimal("0.10"))

    async def one_call(n: int) -> Admission | Exception:
        control = controls[n % 2]
        try:
            admission = await control.admit(Ticket(unique_id("agent:crowd"), microdao, ROOMY, 100, Decimal("0.01"),
                                                   (budget,)))
        except OverBudget as refused:
            return refused
        spent, reserved = await spend_row(pools[n % 2], "microdao", microdao)
        assert spent + reserved <= budget.limit_usd
        await asyncio.sleep(0.01)  # the call itself
        await control.settle(admission, 80, Decimal("0.007"))
        return admission

    results = await asyncio.gather(*(one_call(n) for n in range(64)))
    for control in controls:
        await control.aclose()
    assert sum(isinstance(r, Admission) for r in results) == 10
    assert await spend_row(pools[0], "microdao", microdao) == (Decimal("0.07"), 0)


async def test_a_burst_across_a_minute_boundary_through_two_processes_gets_the_limit_once(pools: list[Any]) -> None:
    clock = FakeClock(datetime(2026, 11, 24, 12, 0, 59, 500_000, tzinfo=UTC))
    controls = [PgAdmissionControl(pool, clock) for pool in pools]
    agent, limit = unique_id("agent:boundary"), RateLimit(requests_per_minute=20, tokens_per_minute=1_000_000)

    async def burst() -> int:
        results = await asyncio.gather(*(controls[n % 2].admit(Ticket(agent, "microdao:b", limit, 10))
                                         for n in range(40)), return_exceptions=True)
        assert all(isinstance(r, Admission | OverRateLimit) for r in results)
        return sum(isinstance(r, Admission) for r in results)

    before = await burst()
    clock.advance(1)  # 0.5 s into the next minute
    after = await burst()
    assert (before, after) == (20, 0), "a fixed window would have let 20 more in"


async def test_admission_fails_closed_when_the_database_cannot_be_reached() -> None:
    pool = await asyncpg.create_pool(f"postgresql://daarion@127.0.0.1:{free_port()}/none", min_size=0, max_size=1)
    try:
        with pytest.raises(ServiceUnavailable, match="database is unavailable"):
            await PgAdmissionControl(pool, SystemClock()).admit(
                Ticket("agent:a", "microdao:a", ROOMY, 10, Decimal("0.01"),
                       (BudgetLine("agent", "agent:a", Decimal(1)),)))
    finally:
        await pool.close()


class SettlementFails:
    """The pool, except that settling (execute) fails as a dropped connection does."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def execute(self, *args: Any) -> str:
        raise ConnectionResetError("connection reset by peer")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def test_a_settlement_that_fails_is_logged_and_its_reservation_stays_charged(
    pools: list[Any], caplog: pytest.LogCaptureFixture,
) -> None:
    control = PgAdmissionControl(SettlementFails(pools[0]), SystemClock())
    agent = unique_id("agent:unsettled")
    admission = await control.admit(Ticket(agent, "microdao:u", ROOMY, 10, Decimal("0.02"),
                                           (BudgetLine("agent", agent, Decimal(1)),)))
    await control.settle(admission, 5, Decimal("0.001"))
    with caplog.at_level(logging.ERROR, logger="infra.llm.pg_admission"):
        await control.aclose()
    assert "their reservations stay charged" in caplog.text and agent in caplog.text
    assert await spend_row(pools[0], "agent", agent) == (0, Decimal("0.02"))


async def test_a_tenant_sees_only_its_own_agent_s_windows_and_its_microdao_s_spend(pools: list[Any]) -> None:
    control = PgAdmissionControl(pools[0], SystemClock())
    mine, theirs = (unique_id("agent:a"), unique_id("microdao:a")), (unique_id("agent:b"), unique_id("microdao:b"))
    for agent, microdao in (mine, theirs):
        await control.admit(Ticket(agent, microdao, ROOMY, 10, Decimal("0.01"), (
            BudgetLine("agent", agent, Decimal(1)), BudgetLine("microdao", microdao, Decimal(1)))))
    async with tenant_transaction(pools[0], mine[1], mine[0]) as connection:
        windows = await connection.fetch("SELECT DISTINCT agent_id FROM rate_limit_windows")
        spend = await connection.fetch("SELECT scope, subject FROM llm_spend")
    assert [w["agent_id"] for w in windows] == [mine[0]]
    assert sorted((r["scope"], r["subject"]) for r in spend) == [("agent", mine[0]), ("microdao", mine[1])]
    async with tenant_transaction(pools[0], mine[1]) as connection:  # the microDAO, as no agent
        spend = await connection.fetch("SELECT scope, subject FROM llm_spend")
    assert [(r["scope"], r["subject"]) for r in spend] == [("microdao", mine[1])]


async def test_an_agent_s_spend_kept_for_another_microdao_is_refused_not_shared(pools: list[Any]) -> None:
    control = PgAdmissionControl(pools[0], SystemClock())
    agent = unique_id("agent:moved")
    line = (BudgetLine("agent", agent, Decimal(1)),)
    await control.admit(Ticket(agent, unique_id("microdao:first"), ROOMY, 10, Decimal("0.01"), line))
    with pytest.raises(IdentityMismatch, match="another microDAO"):
        await control.admit(Ticket(agent, unique_id("microdao:second"), ROOMY, 10, Decimal("0.01"), line))
