"""UsageRecorder: FakeRecorder, GroupCommitRecorder and PerRequestRecorder (on the real ledger) record alike.

Whether an entry is in the ledger is asked of the LedgerLookup over the same storage. Batches that mix
repeats with new entries are left to the ledger's own tests (tests/integration/ledger/test_group_commit.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from domain.ledger.application import UsageLedger
from domain.ledger.events import LedgerEntry, MemoryStored, ToolInvoked, new_entry
from domain.ledger.ports import LedgerLookup, UsageRecorder
from infra.ledger.group_commit import GroupCommitRecorder, PerRequestRecorder
from infra.ledger.repository_lookup import LedgerRepositoryLookup
from tests.fakes.ledger import FakeRecorder, SetLookup


@dataclass
class Ledger:
    recorder: UsageRecorder
    lookup: LedgerLookup


@pytest.fixture(params=["fake", "group_commit", "per_request"], name="ledger")
def ledger_fixture(request: pytest.FixtureRequest) -> Iterator[Ledger]:
    if request.param == "fake":
        fake = FakeRecorder()
        yield Ledger(fake, SetLookup(fake.ids))
        return
    ledger: UsageLedger = request.getfixturevalue("usage_ledger")
    recorder = GroupCommitRecorder(ledger) if request.param == "group_commit" else PerRequestRecorder(ledger)
    yield Ledger(recorder, LedgerRepositoryLookup(ledger))
    recorder.close()


def stored(n: int = 0) -> LedgerEntry:
    return new_entry(MemoryStored, request_id=f"req-{n}", memory_id=f"m-{n}", agent_id="agent:contract",
                     microdao_id="microdao:contract", tier="mid", kind="fact", content_bytes=n)


async def test_a_recorded_entry_is_in_the_ledger_when_record_returns(ledger: Ledger) -> None:
    entry = stored()
    position = await ledger.recorder.record(entry)
    assert isinstance(position, int) and position > 0
    assert await ledger.lookup.recorded([entry.id]) == {entry.id}


async def test_each_entry_gets_a_later_position_than_the_one_recorded_before_it(ledger: Ledger) -> None:
    positions = [await ledger.recorder.record(stored(n)) for n in range(3)]
    assert positions == sorted(positions) and len(set(positions)) == 3


async def test_concurrent_entries_are_all_recorded_each_at_a_position_of_its_own(ledger: Ledger) -> None:
    entries = [stored(n) for n in range(20)]
    positions = await asyncio.gather(*(ledger.recorder.record(entry) for entry in entries))
    assert len(set(positions)) == len(entries)
    assert await ledger.lookup.recorded([entry.id for entry in entries]) == {entry.id for entry in entries}


async def test_entries_of_every_kind_are_recorded(ledger: Ledger) -> None:
    tool = new_entry(ToolInvoked, request_id="req", tool_id="time.now", agent_id="agent:contract",
                     microdao_id="microdao:contract", status="succeeded", error_type=None, latency_ms=1.5,
                     argument_bytes=2)
    await ledger.recorder.record(tool)
    assert await ledger.lookup.recorded([tool.id]) == {tool.id}


async def test_recording_an_entry_id_again_is_a_no_op_at_or_after_its_first_position(ledger: Ledger) -> None:
    first = stored(7)
    position = await ledger.recorder.record(first)
    retried = LedgerEntry.of(MemoryStored, first.id, request_id="req-7", memory_id="m-7", agent_id="agent:contract",
                             microdao_id="microdao:contract", tier="mid", kind="fact", content_bytes=7)
    assert await ledger.recorder.record(retried) >= position
    assert await ledger.lookup.recorded([first.id]) == {first.id}
