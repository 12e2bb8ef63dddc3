"""UsageReports: FakeUsageReports and ProjectedUsageReports wait for the projection and group usage alike.

Reports read every row of usage_daily, so postgres cases get a database of their own. Entries are recorded
without waiting for the projection: the report catches it up. A projection that cannot advance is one whose
tracking row another transaction holds (the fake's UsageTable is told it is stalled)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from domain.ledger import events
from domain.ledger.projections import UsageCounters, UsageKey
from domain.ledger.reports import UsageReports, UsageRow
from infra.ledger.event_store import open_ledger
from infra.ledger.group_commit import PerRequestRecorder
from infra.ledger.projected_usage import ProjectedUsageReports
from infra.ledger.usage_projection import UsageProjector
from infra.platform.db import create_pool
from tests.contracts.support import BOTH, drop_database
from tests.fakes.ledger import FakeUsageReports, UsageTable
from tests.support import fresh_database

TODAY = datetime.now(UTC).date()


@dataclass
class Usage:
    build: Callable[[float], UsageReports]  # the reports, waiting that many seconds for the projection
    record: Callable[[events.LedgerEntry], Awaitable[int]]
    put_llm_calls: Callable[[date, int], Awaitable[None]]  # that many LLM calls of agent:a on that day
    stalled: Callable[[], AbstractContextManager[None]]

    async def report(self, group_by: str, since: date = TODAY, until: date = TODAY) -> tuple[list[UsageRow], bool]:
        report = await self.build(5.0).report(group_by, since, until)
        return report.rows, report.complete

    async def scene(self) -> None:
        """agent:a and agent:b of microdao:7, agent:c of microdao:9; every kind of entry the report counts."""
        a, b, c = ({"agent_id": f"agent:{x}", "microdao_id": f"microdao:{n}"} for x, n in ("a7", "b7", "c9"))
        for entry in [
            llm(events.LlmCallCompleted, a, "gpt", "openai/ok-gpt", 100, 20, 100.0, Decimal("0.0012")),
            llm(events.LlmCallFailed, a, "gpt", "openai/ok-gpt", 50, 0, 50.5, None),
            llm(events.LlmCallCancelled, b, "fast", "deepseek/ok-deepseek", 10, 3, 7.0, Decimal("0.0000004")),
            events.new_entry(events.ToolInvoked, request_id="r", tool_id="tasks.list", status="failed",
                             error_type="timeout", latency_ms=3.0, argument_bytes=2, **a),
            events.new_entry(events.ToolInvoked, request_id="r", tool_id="tasks.list", status="succeeded",
                             error_type=None, latency_ms=1.0, argument_bytes=2, **b),
            events.new_entry(events.MemoryStored, request_id="r", memory_id="m1", tier="mid", kind="fact",
                             content_bytes=9, **a),
            events.new_entry(events.MemoryIndexed, memory_id="m1", tier="mid", chunks=1, embedding_model="minilm",
                             dimensions=384, **a),
            events.new_entry(events.MemoryStored, request_id="r", memory_id="m2", tier="mid", kind="fact",
                             content_bytes=9, **c),
            events.new_entry(events.AgentTurnCompleted, request_id="r", channel_id="chan", steps=2, tools_used=[],
                             prompt_tokens=150, completion_tokens=20, cost_usd=Decimal("0.0012"), latency_ms=180.0,
                             **a),
        ]:
            await self.record(entry)


def llm(kind: type[events.LlmCallRecorded], agent: dict[str, str], logical: str, target: str, prompt: int,
        completion: int, latency_ms: float, cost: Decimal | None) -> events.LedgerEntry:
    provider, _, physical = target.partition("/")
    return events.new_entry(kind, request_id="r", logical_model=logical, provider=provider, physical_model=physical,
                            prompt_tokens=prompt, completion_tokens=completion, latency_ms=latency_ms, cost_usd=cost,
                            cost_known=cost is not None, status="done", error_type=None, stream=False, **agent)


@contextmanager
def tracking_row_held(url: str) -> Iterator[None]:
    with psycopg.connect(url, autocommit=True) as setup:
        setup.execute("INSERT INTO usage_projection_tracking (application_name, notification_id) "
                      "VALUES ('usage_daily', 0) ON CONFLICT DO NOTHING")
    with psycopg.connect(url) as holder:
        holder.execute("SELECT 1 FROM usage_projection_tracking WHERE application_name = 'usage_daily' FOR UPDATE")
        yield


@pytest.fixture(params=BOTH, name="usage")
async def usage_fixture(request: pytest.FixtureRequest) -> AsyncIterator[Usage]:
    if request.param == "fake":
        table = UsageTable()

        async def put_fake(day: date, calls: int) -> None:
            table.put(UsageKey(day, "llm", "agent:a", "microdao:7", "gpt"), UsageCounters(calls=calls))

        yield Usage(lambda wait_s: FakeUsageReports(table), table.recorder.record, put_fake, table.stalled)
        return
    url = fresh_database(request.getfixturevalue("database_url"), "contract")
    ledger = open_ledger(url)
    projector = UsageProjector(ledger)
    pool: Any = await create_pool(url, max_size=2)

    async def put_pg(day: date, calls: int) -> None:
        await pool.execute("INSERT INTO usage_daily (day, kind, agent_id, microdao_id, subject, calls) "
                           "VALUES ($1, 'llm', 'agent:a', 'microdao:7', 'gpt', $2)", day, calls)

    yield Usage(lambda wait_s: ProjectedUsageReports(ledger, projector, pool, wait_s),
                PerRequestRecorder(ledger).record, put_pg, lambda: tracking_row_held(url))
    await pool.close()
    projector.close()
    ledger.close()
    drop_database(url)


async def test_a_report_counts_everything_recorded_before_it_was_asked_for(usage: Usage) -> None:
    await usage.scene()
    rows, complete = await usage.report("agent")
    assert complete
    # key; LLM calls, failures, cancelled, prompt, completion and total tokens, cost, unpriced calls, average
    # latency; tool calls and failures; memory writes; agent turns and their average cost
    assert rows == [
        UsageRow("agent:a", 2, 1, 0, 150, 20, 170, "0.001200", 1, 75.25, 1, 1, 1, 1, "0.001200"),
        UsageRow("agent:b", 1, 0, 1, 10, 3, 13, "0.000000", 0, 7.0, 1, 0, 0, 0, None),
        UsageRow("agent:c", 0, 0, 0, 0, 0, 0, "0.000000", 0, None, 0, 0, 1, 0, None),
    ]


@pytest.mark.parametrize("group_by, expected", [
    ("microdao", [("microdao:7", 3, 2, 1, 1), ("microdao:9", 0, 0, 1, 0)]),
    ("model", [("fast -> deepseek/ok-deepseek", 1, 0, 0, 0), ("gpt -> openai/ok-gpt", 2, 0, 0, 0)]),
    ("tool", [("tasks.list", 0, 2, 0, 0)]),
    ("day", [(TODAY.isoformat(), 3, 2, 2, 1)]),
], ids=["microdao", "model", "tool", "day"])
async def test_rows_are_grouped_by_microdao_model_tool_or_day(
    usage: Usage, group_by: str, expected: list[tuple[str, int, int, int, int]],
) -> None:
    await usage.scene()
    rows, _ = await usage.report(group_by)
    assert [(r.key, r.llm_calls, r.tool_calls, r.memory_writes, r.agent_turns) for r in rows] == expected


async def test_only_days_within_the_range_both_ends_included_are_reported(usage: Usage) -> None:
    for days_ago, calls in ((4, 1), (3, 2), (1, 3), (0, 4)):
        await usage.put_llm_calls(TODAY - timedelta(days=days_ago), calls)
    rows, _ = await usage.report("day", TODAY - timedelta(days=3), TODAY - timedelta(days=1))
    assert [(row.key, row.llm_calls) for row in rows] == [((TODAY - timedelta(days=3)).isoformat(), 2),
                                                          ((TODAY - timedelta(days=1)).isoformat(), 3)]


async def test_a_report_while_the_projection_cannot_advance_says_it_is_incomplete(usage: Usage) -> None:
    await usage.put_llm_calls(TODAY, 1)
    await usage.report("agent")
    with usage.stalled():
        await usage.put_llm_calls(TODAY - timedelta(days=1), 1)  # what the table holds still shows
        await usage.scene()
        report = await usage.build(0.2).report("agent", TODAY - timedelta(days=1), TODAY)
        assert not report.complete
        assert [(row.key, row.llm_calls) for row in report.rows] == [("agent:a", 2)]
    rows, complete = await usage.report("agent", TODAY - timedelta(days=1))
    assert complete and (rows[0].key, rows[0].llm_calls) == ("agent:a", 4)


async def test_a_report_for_one_agent_holds_only_that_agents_usage(usage: Usage) -> None:
    await usage.scene()
    report = await usage.build(5.0).report("microdao", TODAY, TODAY, "agent:b")
    assert [(r.key, r.llm_calls, r.tool_calls) for r in report.rows] == [("microdao:7", 1, 1)]


async def test_a_report_for_one_microdao_holds_only_that_microdaos_usage_in_any_grouping(usage: Usage) -> None:
    await usage.scene()
    by_agent = await usage.build(5.0).report("agent", TODAY, TODAY, microdao_id="microdao:9")
    assert [(r.key, r.memory_writes) for r in by_agent.rows] == [("agent:c", 1)]
    by_tool = await usage.build(5.0).report("tool", TODAY, TODAY, microdao_id="microdao:9")
    assert by_tool.rows == []


async def test_agent_and_microdao_filters_combine(usage: Usage) -> None:
    await usage.scene()
    same = await usage.build(5.0).report("model", TODAY, TODAY, "agent:a", "microdao:7")
    assert [(r.key, r.llm_calls) for r in same.rows] == [("gpt -> openai/ok-gpt", 2)]
    elsewhere = await usage.build(5.0).report("model", TODAY, TODAY, "agent:a", "microdao:9")
    assert elsewhere.rows == []
