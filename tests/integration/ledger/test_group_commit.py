"""The ledger's writers on the real ledger (embedded PostgreSQL, a database of their own): a failed commit
fails every waiter of its batch and nothing after it, and an entry already in the ledger is a no-op.

To put several callers in one batch, a test holds a lock on the events table while the writer commits a
first entry alone; the callers queue up meanwhile and the writer takes them all in its next transaction.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import psycopg
import pytest

from domain.kernel.errors import ServiceUnavailable
from domain.ledger.application import UsageLedger
from domain.ledger.events import LedgerEntry, MemoryStored, new_entry
from infra.ledger.event_store import open_ledger
from infra.ledger.group_commit import GroupCommitRecorder, PerRequestRecorder
from tests.integration.ledger.ledger_db import fail_once, isolated_database_fixture  # noqa: F401 - fixtures


def entry(entry_id: uuid.UUID | None = None) -> LedgerEntry:
    facts = {"request_id": "r", "memory_id": "m", "agent_id": "agent:test", "microdao_id": "microdao:test",
             "tier": "mid", "kind": "fact", "content_bytes": 1}
    return LedgerEntry.of(MemoryStored, entry_id, **facts) if entry_id else new_entry(MemoryStored, **facts)


def events_of(ledger: UsageLedger, entry_id: uuid.UUID) -> int:
    return len(ledger.recorder.select_events(entry_id))


@pytest.fixture(name="ledger")
def ledger_fixture(isolated_database: str) -> Iterator[UsageLedger]:
    ledger = open_ledger(isolated_database)
    yield ledger
    ledger.close()


@pytest.fixture(name="recorder")
async def recorder_fixture(ledger: UsageLedger) -> AsyncIterator[GroupCommitRecorder]:
    recorder = GroupCommitRecorder(ledger)
    yield recorder
    await asyncio.to_thread(recorder.close)


@contextmanager
def table_locked(url: str) -> Iterator[None]:
    """Holds off every ledger commit (they lock the table in EXCLUSIVE mode) until the block ends."""
    with psycopg.connect(url) as connection:
        connection.execute("LOCK TABLE usageledger_events IN SHARE MODE")
        yield
        connection.commit()


async def wait_until_a_commit_waits_for_the_lock(url: str) -> None:
    deadline = time.monotonic() + 10
    with psycopg.connect(url, autocommit=True) as connection:
        while time.monotonic() < deadline:
            row = connection.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                     "AND wait_event_type = 'Lock'").fetchone()
            if row is not None and row[0] > 0:
                return
            await asyncio.sleep(0.01)
    raise AssertionError("the writer never waited for the table lock")


async def in_one_batch(
    url: str, recorder: GroupCommitRecorder, entries: list[LedgerEntry],
) -> tuple[int, list[int | BaseException]]:
    """Commits a first entry alone while `entries` queue up, then lets them go as the next batch."""
    with table_locked(url):
        first = asyncio.ensure_future(recorder.record(entry()))
        await wait_until_a_commit_waits_for_the_lock(url)
        queued = [asyncio.ensure_future(recorder.record(e)) for e in entries]
        await asyncio.sleep(0.05)  # every record() call has queued its entry
    results = await asyncio.gather(*queued, return_exceptions=True)
    return await first, list(results)


async def test_a_failed_commit_fails_every_waiter_of_its_batch_and_the_next_batch_commits(
    isolated_database: str, ledger: UsageLedger, recorder: GroupCommitRecorder,
) -> None:
    fail_once(isolated_database, "INSERT ON usageledger_events", nth=2)  # the first entry commits, then a batch fails
    batch = [entry() for _ in range(5)]

    _, outcomes = await in_one_batch(isolated_database, recorder, batch)

    assert all(isinstance(outcome, ServiceUnavailable) for outcome in outcomes), outcomes
    assert [events_of(ledger, e.id) for e in batch] == [0] * 5, "no caller was answered without its entry"
    after = entry()
    position = await recorder.record(after)
    assert position > 0 and events_of(ledger, after.id) == 1
    retried = await asyncio.gather(*(recorder.record(e) for e in batch))
    assert min(retried) > position, "the failed commit left the entries recordable by a retry"
    assert [events_of(ledger, e.id) for e in batch] == [1] * 5


async def test_repeats_in_one_batch_are_committed_once_and_do_not_fail_the_other_callers(
    isolated_database: str, ledger: UsageLedger, recorder: GroupCommitRecorder,
) -> None:
    already = entry(uuid.uuid4())
    await recorder.record(already)
    repeated_id = uuid.uuid5(uuid.NAMESPACE_URL, f"test:{uuid.uuid4()}")
    fresh = [entry(), entry()]
    batch = [entry(already.id), entry(repeated_id), fresh[0], entry(repeated_id), fresh[1], entry(repeated_id)]

    first, positions = await in_one_batch(isolated_database, recorder, batch)

    assert all(isinstance(position, int) and position > first for position in positions), positions
    assert positions[1] == positions[3] == positions[5]
    assert [events_of(ledger, entry_id) for entry_id in (already.id, repeated_id, fresh[0].id, fresh[1].id)] == [
        1, 1, 1, 1]


async def test_the_per_request_writer_takes_a_repeated_entry_as_a_no_op(ledger: UsageLedger) -> None:
    recorder = PerRequestRecorder(ledger)
    entry_id = uuid.uuid5(uuid.NAMESPACE_URL, f"test:{uuid.uuid4()}")
    first = await recorder.record(entry(entry_id))
    again = await recorder.record(entry(entry_id))
    assert again >= first > 0
    assert events_of(ledger, entry_id) == 1
