"""One world for the AdmissionControl suites (rates and budgets): InMemoryAdmissionControl or
PgAdmissionControl, a FakeClock both read the time from (PgAdmissionControl keys its rows by the clock's
window and month, not by the database's now()), and a way to put spend into the usage projection."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from domain.llm.admission import Admission, BudgetLine, Ticket
from domain.llm.policies import RateLimit
from domain.llm.ports import AdmissionControl
from infra.llm.pg_admission import PgAdmissionControl
from tests.contracts.support import unique
from tests.fakes.clock import FakeClock
from tests.fakes.llm import InMemoryAdmissionControl

WINDOW_START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
MONTH = date(2026, 11, 1)
LIMIT = RateLimit(requests_per_minute=3, tokens_per_minute=100)


@dataclass
class World:
    control: AdmissionControl
    clock: FakeClock
    settled: Callable[[], Awaitable[None]]    # what settle() queued is in the store
    project: Callable[[str, str, date, Decimal], Awaitable[None]]  # (agent, microDAO, day, cost) into usage_daily
    row: Callable[[str, str, date], Awaitable[tuple[Decimal, Decimal] | None]]  # (spent, reserved) of a budget row
    agent: str = field(default_factory=lambda: unique("agent:contract"))
    microdao: str = field(default_factory=lambda: unique("microdao:contract"))

    def ticket(self, tokens: int = 10, cost: str = "0", budgets: tuple[BudgetLine, ...] = (),
               limit: RateLimit = LIMIT, agent: str | None = None) -> Ticket:
        return Ticket(agent or self.agent, self.microdao, limit, tokens, Decimal(cost), budgets)

    async def admit(self, tokens: int = 10, limit: RateLimit = LIMIT, agent: str | None = None) -> Admission:
        return await self.control.admit(self.ticket(tokens, limit=limit, agent=agent))

    def agent_budget(self, usd: str) -> BudgetLine:
        return BudgetLine("agent", self.agent, Decimal(usd))

    def microdao_budget(self, usd: str) -> BudgetLine:
        return BudgetLine("microdao", self.microdao, Decimal(usd))

    async def spend_of(self, line: BudgetLine, month: date = MONTH) -> tuple[Decimal, Decimal] | None:
        return await self.row(line.scope, line.subject, month)


def fake_world() -> World:
    clock = FakeClock(WINDOW_START.replace(second=15))
    projected: dict[tuple[str, str, date], Decimal] = {}

    def projection(scope: str, subject: str, month: date) -> Decimal:
        return projected.get((scope, subject, month), Decimal(0))

    control = InMemoryAdmissionControl(clock, projected=projection)

    async def nothing_pending() -> None:
        return None

    async def project(agent: str, microdao: str, day: date, cost: Decimal) -> None:
        for key in (("agent", agent, day.replace(day=1)), ("microdao", microdao, day.replace(day=1))):
            projected[key] = projected.get(key, Decimal(0)) + cost

    async def row(scope: str, subject: str, month: date) -> tuple[Decimal, Decimal] | None:
        return control.spend.get((scope, subject, month))

    return World(control, clock, nothing_pending, project, row)


def postgres_world(request: pytest.FixtureRequest) -> World:
    pool: Any = request.getfixturevalue("pg_pool")
    database_url: str = request.getfixturevalue("database_url")
    clock = FakeClock(WINDOW_START.replace(second=15))
    control = PgAdmissionControl(pool, clock)
    subjects: list[str] = []

    async def project(agent: str, microdao: str, day: date, cost: Decimal) -> None:
        subjects.append(unique("model"))
        await pool.execute("INSERT INTO usage_daily (day, kind, agent_id, microdao_id, subject, calls, cost_usd) "
                           "VALUES ($1, 'llm', $2, $3, $4, 1, $5)", day, agent, microdao, subjects[-1], cost)

    async def row(scope: str, subject: str, month: date) -> tuple[Decimal, Decimal] | None:
        found = await pool.fetchrow("SELECT spent_usd, reserved_usd FROM llm_spend WHERE scope = $1 AND subject = $2 "
                                    "AND month = $3", scope, subject, month)
        return None if found is None else (found["spent_usd"], found["reserved_usd"])

    def take_back_projected_rows() -> None:
        # The shared projection must stay rebuildable from the ledger (another test rebuilds and compares).
        with psycopg.connect(database_url) as connection:
            connection.execute("DELETE FROM usage_daily WHERE subject = ANY(%s)", (subjects,))

    request.addfinalizer(take_back_projected_rows)
    return World(control, clock, control.flush, project, row)
