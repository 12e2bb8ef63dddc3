"""The usage projector on connections of its own (a database of the test's own): every event is counted
exactly once, a batch that fails half-way leaves neither view rows nor position behind, and closing the
projector leaves the ledger working."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from domain.ledger.application import UsageLedger
from domain.ledger.events import MemoryStored, new_entry
from infra.ledger.event_store import open_ledger
from infra.ledger.usage_projection import UsageProjector
from tests.integration.ledger.ledger_db import fail_once, isolated_database_fixture  # noqa: F401 - fixtures


@pytest.fixture(name="ledger")
def ledger_fixture(isolated_database: str) -> Iterator[UsageLedger]:
    ledger = open_ledger(isolated_database)
    yield ledger
    ledger.close()


def store(ledger: UsageLedger, count: int, content_bytes: int = 10) -> int:
    entries = [new_entry(MemoryStored, request_id="r", memory_id=f"m{i}", agent_id="agent:sofia",
                         microdao_id="microdao:7", tier="mid", kind="fact", content_bytes=content_bytes)
               for i in range(count)]
    return ledger.record(entries)[-1]


def memory_writes(url: str) -> tuple[int, int]:
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT coalesce(sum(calls), 0), coalesce(sum(bytes), 0) FROM usage_daily "
                                 "WHERE kind = 'memory' AND agent_id = 'agent:sofia'").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_every_event_is_counted_once_even_when_a_batch_fails_half_way(
    isolated_database: str, ledger: UsageLedger,
) -> None:
    projector = UsageProjector(ledger, batch_size=4)
    store(ledger, 6)
    projector.catch_up()
    assert memory_writes(isolated_database) == (6, 60)

    last = store(ledger, 5)
    # The view rows are written, then the tracking row's update fails: the transaction takes both back.
    fail_once(isolated_database, "UPDATE ON usage_projection_tracking")
    with pytest.raises(Exception, match="injected failure"):
        projector.project_batch()
    assert memory_writes(isolated_database) == (6, 60)
    assert projector.position() == last - 5

    assert projector.wait_for(last, timeout=5)
    assert memory_writes(isolated_database) == (11, 110)


def test_a_rebuild_gives_the_same_totals_and_closing_the_projector_leaves_the_ledger_open(
    isolated_database: str, ledger: UsageLedger,
) -> None:
    projector = UsageProjector(ledger)
    store(ledger, 3, content_bytes=7)
    projector.catch_up()
    before = memory_writes(isolated_database)
    projector.rebuild()
    assert memory_writes(isolated_database) == before == (3, 21)

    projector.close()
    position = store(ledger, 1, content_bytes=7)
    assert ledger.max_position() == position
    again = UsageProjector(ledger)
    assert again.wait_for(position) and memory_writes(isolated_database) == (4, 28)
    again.close()
