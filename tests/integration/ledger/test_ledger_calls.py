"""ledger_calls, the console's view of the ledger's calls: written by the usage projector with usage_daily in
one transaction (each call once, even when a batch fails half-way), rebuilt identically, and read through
PgLedgerActivity newest first, by request id in order, and within one microDAO when asked."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import psycopg
import pytest

from domain.ledger.activity import CallFilter
from domain.ledger.application import UsageLedger
from domain.ledger.events import LlmCallCompleted, MemoryIndexed, MemoryStored, ToolInvoked, new_entry
from infra.ledger.event_store import open_ledger
from infra.ledger.pg_ledger_activity import PgLedgerActivity
from infra.ledger.usage_projection import UsageProjector
from infra.platform.db import create_pool
from tests.integration.ledger.ledger_db import fail_once, isolated_database_fixture  # noqa: F401 - fixtures


@pytest.fixture(name="ledger")
def ledger_fixture(isolated_database: str) -> Iterator[UsageLedger]:
    ledger = open_ledger(isolated_database)
    yield ledger
    ledger.close()


def a_turn(ledger: UsageLedger, request_id: str, agent: str, microdao: str) -> None:
    """A memory write, a tool call and an LLM call under one request id, plus indexing (not a call)."""
    ledger.record([
        new_entry(MemoryStored, request_id=request_id, memory_id="m1", agent_id=agent, microdao_id=microdao,
                  tier="mid", kind="conversation", content_bytes=10),
        new_entry(ToolInvoked, request_id=request_id, tool_id="time.now", agent_id=agent, microdao_id=microdao,
                  status="succeeded", error_type=None, latency_ms=3.5, argument_bytes=2),
        new_entry(LlmCallCompleted, request_id=request_id, agent_id=agent, microdao_id=microdao,
                  logical_model="gpt", provider="stub", physical_model="stub-1", prompt_tokens=12,
                  completion_tokens=7, latency_ms=20.25, cost_usd=Decimal("0.0000165"), cost_known=True,
                  status="completed", error_type=None, stream=False),
        new_entry(MemoryIndexed, memory_id="m1", agent_id=agent, microdao_id=microdao, tier="mid", chunks=1,
                  embedding_model="fake", dimensions=8),
    ])


def calls(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as connection:
        return connection.execute("SELECT microdao_id, position, request_id, kind, subject, status, cost_usd "
                                  "FROM ledger_calls ORDER BY position").fetchall()


def test_each_call_is_projected_once_beside_usage_daily_and_a_rebuild_gives_the_same_rows(
    isolated_database: str, ledger: UsageLedger,
) -> None:
    projector = UsageProjector(ledger, batch_size=3)
    a_turn(ledger, "req_a", "agent:sofia", "microdao:7")
    fail_once(isolated_database, "INSERT ON ledger_calls", nth=2)
    with pytest.raises(Exception, match="injected failure"):
        projector.project_batch()
    assert calls(isolated_database) == [] and projector.position() == 0
    projector.catch_up()
    projected = calls(isolated_database)
    assert [(c[3], c[4]) for c in projected] == [("memory", "stored mid/conversation"), ("tool", "time.now"),
                                                  ("llm", "gpt")]
    projector.rebuild()
    assert calls(isolated_database) == projected
    projector.close()


async def test_activity_reads_newest_first_a_request_in_order_and_one_microdao_only(
    isolated_database: str, ledger: UsageLedger,
) -> None:
    a_turn(ledger, "req_seven", "agent:sofia", "microdao:7")
    a_turn(ledger, "req_nine", "agent:rival", "microdao:9")
    projector = UsageProjector(ledger)
    projector.catch_up()
    projector.close()
    pool = await create_pool(isolated_database, max_size=2)
    try:
        activity = PgLedgerActivity(pool)
        newest = await activity.recent(CallFilter())
        assert [c.request_id for c in newest] == ["req_nine"] * 3 + ["req_seven"] * 3
        assert [c.kind for c in await activity.turn("req_seven", None)] == ["memory", "tool", "llm"]
        assert await activity.turn("req_seven", "microdao:9") == []
        [llm] = await activity.recent(CallFilter(microdao_id="microdao:7", kind="llm", model="gpt"))
        assert (llm.agent_id, llm.prompt_tokens, llm.cost_usd) == ("agent:sofia", 12, Decimal("0.0000165"))
        assert [u.agent_id for u in await activity.tool_use("microdao:9")] == ["agent:rival"]
    finally:
        await pool.close()
