"""SpendReader: FakeSpendReader and PgSpendReader sum month-to-date LLM spend of an agent and its microDAO alike.

This month's calls go the way production records them: a ledger entry, then the usage projection (the
FakeRecorder folded by a UsageTable; the real ledger and UsageProjector). Events are stamped now, so a
row of another day is put into usage_daily (or the UsageTable) directly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from domain.ledger.application import UsageLedger
from domain.ledger.events import AgentTurnCompleted, LedgerEntry, LlmCallCompleted, ToolInvoked, new_entry
from domain.ledger.projections import UsageCounters, UsageKey
from domain.llm.ports import SpendReader
from infra.ledger.group_commit import PerRequestRecorder
from infra.ledger.pg_usage_reports import PgSpendReader
from infra.ledger.usage_projection import UsageProjector
from tests.contracts.support import BOTH, unique
from tests.fakes.ledger import UsageTable
from tests.fakes.llm import FakeSpendReader

MONTH_START = datetime.now(UTC).date().replace(day=1)


@dataclass
class Spending:
    reader: SpendReader
    record: Callable[[LedgerEntry], Awaitable[None]]  # returns once the entry is projected
    put_row: Callable[[date, str, str, Decimal], Awaitable[None]]  # (day, agent, microDAO, cost) of one call
    agent: str
    microdao: str

    async def call(self, cost: Decimal | None, agent: str | None = None, microdao: str | None = None) -> None:
        await self.record(new_entry(
            LlmCallCompleted, request_id=unique("req"), agent_id=agent or self.agent,
            microdao_id=microdao or self.microdao, logical_model="gpt", provider="openai", physical_model="ok-gpt",
            prompt_tokens=10, completion_tokens=5, latency_ms=12.0, cost_usd=cost, cost_known=cost is not None,
            status="completed", error_type=None, stream=False))

    async def read(self) -> tuple[Decimal, Decimal]:
        return await self.reader.month_to_date_usd(self.agent, self.microdao)


@pytest.fixture(scope="module")
def projector(usage_ledger: UsageLedger) -> Iterator[UsageProjector]:
    projector = UsageProjector(usage_ledger)
    yield projector
    projector.close()


@pytest.fixture(params=BOTH, name="spending")
def spending_fixture(request: pytest.FixtureRequest) -> Spending:
    agent, microdao = unique("agent:contract"), unique("microdao:contract")
    if request.param == "fake":
        table = UsageTable()

        async def record_fake(entry: LedgerEntry) -> None:
            await table.recorder.record(entry)

        async def put_fake(day: date, agent: str, microdao: str, cost: Decimal) -> None:
            table.put(UsageKey(day, "llm", agent, microdao, unique("model")), UsageCounters(calls=1, cost_usd=cost))

        return Spending(FakeSpendReader(table), record_fake, put_fake, agent, microdao)
    pool: Any = request.getfixturevalue("pg_pool")
    projector: UsageProjector = request.getfixturevalue("projector")
    recorder = PerRequestRecorder(request.getfixturevalue("usage_ledger"))

    async def record_pg(entry: LedgerEntry) -> None:
        position = await recorder.record(entry)
        assert await asyncio.to_thread(projector.wait_for, position)

    put_models: list[str] = []
    database_url: str = request.getfixturevalue("database_url")

    async def put_pg(day: date, agent: str, microdao: str, cost: Decimal) -> None:
        put_models.append(unique("model"))
        await pool.execute("INSERT INTO usage_daily (day, kind, agent_id, microdao_id, subject, calls, cost_usd) "
                           "VALUES ($1, 'llm', $2, $3, $4, 1, $5)", day, agent, microdao, put_models[-1], cost)

    def take_back_put_rows() -> None:
        # The shared projection must stay rebuildable from the ledger (another test rebuilds and compares).
        with psycopg.connect(database_url) as connection:
            connection.execute("DELETE FROM usage_daily WHERE subject = ANY(%s)", (put_models,))

    request.addfinalizer(take_back_put_rows)
    return Spending(PgSpendReader(pool, ttl_s=0), record_pg, put_pg, agent, microdao)


async def test_an_agent_that_spent_nothing_reads_zero_for_itself_and_its_microdao(spending: Spending) -> None:
    assert await spending.read() == (Decimal(0), Decimal(0))


async def test_the_agent_s_calls_this_month_count_for_it_and_for_its_microdao(spending: Spending) -> None:
    await spending.call(Decimal("0.25"))
    await spending.call(Decimal("0.0000001"))
    assert await spending.read() == (Decimal("0.2500001"), Decimal("0.2500001"))


async def test_other_agents_of_the_microdao_count_for_the_microdao_only(spending: Spending) -> None:
    await spending.call(Decimal("0.25"))
    await spending.call(Decimal("1.5"), agent=unique("agent:colleague"))
    assert await spending.read() == (Decimal("0.25"), Decimal("1.75"))


async def test_the_agent_s_calls_for_another_microdao_count_for_the_agent_only(spending: Spending) -> None:
    await spending.call(Decimal("0.25"))
    await spending.call(Decimal(2), microdao=unique("microdao:elsewhere"))
    assert await spending.read() == (Decimal("2.25"), Decimal("0.25"))


async def test_spend_from_the_first_of_the_month_counts_and_last_month_s_does_not(spending: Spending) -> None:
    await spending.put_row(MONTH_START, spending.agent, spending.microdao, Decimal("0.5"))
    last_month = MONTH_START - timedelta(days=1)
    await spending.put_row(last_month, spending.agent, spending.microdao, Decimal(7))
    await spending.put_row(last_month, unique("agent:colleague"), spending.microdao, Decimal(9))
    assert await spending.read() == (Decimal("0.5"), Decimal("0.5"))


async def test_unpriced_calls_tool_calls_and_turns_add_no_spend(spending: Spending) -> None:
    await spending.call(None)
    await spending.record(new_entry(
        ToolInvoked, request_id="req", tool_id="time.now", agent_id=spending.agent, microdao_id=spending.microdao,
        status="succeeded", error_type=None, latency_ms=1.0, argument_bytes=2))
    # A turn's cost is that of the LLM calls it made, each already counted on its own.
    await spending.record(new_entry(
        AgentTurnCompleted, request_id="req", agent_id=spending.agent, microdao_id=spending.microdao,
        channel_id="chan", steps=1, tools_used=[], prompt_tokens=10, completion_tokens=5, cost_usd=Decimal(3),
        latency_ms=20.0))
    assert await spending.read() == (Decimal(0), Decimal(0))
