"""MemoryCorrections against twins: the ledger entry of a correction, If-Match, races with other corrections,
repeats, and memories the caller may not correct."""

from __future__ import annotations

import msgspec
import pytest

from domain.kernel.errors import Conflict, NotFound, PreconditionFailed, ServiceUnavailable
from domain.ledger.events import LedgerEntry, MemoryUpdated
from domain.memory.corrections import ATTEMPTS, MemoryCorrections
from domain.memory.model import Scope, content_hash
from domain.memory.records import updated_entry_id
from domain.memory.revisions import PatchMemory
from domain.memory.service import MemoryPolicies
from tests.fakes.ledger import FakeRecorder
from tests.fakes.memory_corrections import RecordedLedger, RevisedMemories, memory_record

SOFIA = Scope("m7", "sofia")
NEW = msgspec.convert({"content": {"text": "the new text"}}, PatchMemory)


class FailingOnce(FakeRecorder):
    """The ledger's writer with one failed commit ahead."""

    def __init__(self) -> None:
        super().__init__()
        self.fail = True

    async def record(self, entry: LedgerEntry) -> int:
        if self.fail:
            self.fail = False
            raise ServiceUnavailable("the ledger is down")
        return await super().record(entry)


def corrections(memories: RevisedMemories, recorder: FakeRecorder | None = None,
                woken: list[int] | None = None) -> tuple[MemoryCorrections, FakeRecorder]:
    recorder = recorder or FakeRecorder()
    return MemoryCorrections(memories, memories, RecordedLedger(recorder), recorder, "fake-bow", MemoryPolicies(),
                             lambda: (woken if woken is not None else []).append(1)), recorder


async def test_a_correction_is_recorded_once_with_old_and_new_hashes_and_sizes_and_wakes_the_indexer() -> None:
    old = memory_record(SOFIA, "old text")
    woken: list[int] = []
    service, recorder = corrections(RevisedMemories(old), woken=woken)
    record = await service.patch(SOFIA, "req-1", old.id, NEW)
    assert (record.version, record.text, woken) == (2, "the new text", [1])
    again = await service.patch(SOFIA, "req-2", old.id, NEW)
    assert again.version == 2 and woken == [1], "a repeat changes nothing and indexes nothing"
    [event] = recorder.events(MemoryUpdated)
    assert (event.originator_id, event.request_id, event.memory_id, event.version, event.agent_id, event.microdao_id,
            event.kind, event.tier) == (updated_entry_id(old.id, 2), "req-1", old.id, 2, "sofia", "m7", "fact", "mid")
    assert (event.old_content_hash, event.new_content_hash, event.old_content_bytes, event.new_content_bytes) == (
        content_hash("", "", "old text"), content_hash("", "", "the new text"), 8, 12)


async def test_a_repeat_of_a_correction_whose_ledger_write_failed_writes_its_entry() -> None:
    old = memory_record(SOFIA, "old text")
    service, recorder = corrections(RevisedMemories(old), FailingOnce())
    with pytest.raises(ServiceUnavailable):
        await service.patch(SOFIA, "req-1", old.id, NEW)
    assert recorder.events(MemoryUpdated) == []
    await service.patch(SOFIA, "req-1-retry", old.id, NEW)
    [event] = recorder.events(MemoryUpdated)
    assert (event.version, event.request_id, event.old_content_bytes) == (2, "req-1-retry", 8)


async def test_if_match_of_another_version_is_refused_and_nothing_is_written() -> None:
    old = memory_record(SOFIA, "old text")
    memories = RevisedMemories(old)
    service, recorder = corrections(memories)
    with pytest.raises(PreconditionFailed, match="at version 1, not 7"):
        await service.patch(SOFIA, "r", old.id, NEW, expected=7)
    assert memories.written == [] and recorder.events == []
    assert (await service.patch(SOFIA, "r", old.id, NEW, expected=1)).version == 2


async def test_without_if_match_a_correction_that_loses_a_race_applies_to_the_newer_version() -> None:
    old = memory_record(SOFIA, "old text")
    memories = RevisedMemories(old)
    memories.interleave = ["a concurrent text"]
    service, recorder = corrections(memories)
    record = await service.patch(SOFIA, "r", old.id, NEW)
    assert (record.version, record.text) == (3, "the new text")
    history = await service.history(SOFIA, old.id)
    assert [entry.text for entry in history.entries] == ["old text", "a concurrent text", "the new text"]
    [event] = recorder.events(MemoryUpdated)
    assert (event.version, event.old_content_hash) == (3, content_hash("", "", "a concurrent text"))


async def test_with_if_match_a_correction_that_loses_a_race_is_refused() -> None:
    old = memory_record(SOFIA, "old text")
    memories = RevisedMemories(old)
    memories.interleave = ["a concurrent text"]
    service, _ = corrections(memories)
    with pytest.raises(PreconditionFailed):
        await service.patch(SOFIA, "r", old.id, NEW, expected=1)


async def test_a_correction_that_keeps_losing_races_gives_up_with_a_conflict() -> None:
    old = memory_record(SOFIA, "old text")
    memories = RevisedMemories(old)
    memories.interleave = [f"rival {i}" for i in range(ATTEMPTS)]
    service, recorder = corrections(memories)
    with pytest.raises(Conflict, match="kept changing"):
        await service.patch(SOFIA, "r", old.id, NEW)
    assert recorder.events == []


async def test_another_agents_memory_and_a_knowledge_document_read_as_missing() -> None:
    theirs, document = memory_record(Scope("m7", "petro"), "petro's"), memory_record(SOFIA, "kb", "document", "long")
    service, _ = corrections(RevisedMemories(theirs, document))
    for item in (theirs, document):
        with pytest.raises(NotFound, match=f"no memory {item.id}"):
            await service.patch(SOFIA, "r", item.id, NEW)
        with pytest.raises(NotFound):
            await service.history(SOFIA, item.id)
