"""The rules of a correction and of a history, as pure functions: what a patch may change, the next version
it makes, the If-Match forms, and the history joining versions with the ledger's entries."""

from __future__ import annotations

import uuid
from datetime import timedelta

import msgspec
import pytest

from domain.kernel.errors import InvalidRequest
from domain.ledger.events import LedgerEntry, MemoryStored
from domain.memory.chunking import ChunkingPolicy
from domain.memory.history import build_history, entry_id_of
from domain.memory.model import MemoryContent, MemoryLimits, Scope, content_hash
from domain.memory.records import stored_entry_id, updated_entry_id
from domain.memory.revisions import PatchMemory, current_version, expected_version, revise
from tests.fakes.memory_corrections import T0, memory_record

SOFIA = Scope("m7", "sofia")


def patch(**fields: object) -> PatchMemory:
    return msgspec.convert(fields, PatchMemory)


def test_a_patch_that_names_nothing_to_change_is_a_400() -> None:
    with pytest.raises(InvalidRequest, match="at least one of"):
        revise(memory_record(SOFIA, "old"), patch(), MemoryLimits(), ChunkingPolicy())


def test_a_new_text_makes_the_next_version_with_new_chunks_and_keeps_what_the_patch_leaves_out() -> None:
    current = msgspec.structs.replace(memory_record(SOFIA, "old"), metadata={"p": 1}, channel_id="c", version=4)
    revision = revise(current, patch(content={"text": "the new text"}), MemoryLimits(), ChunkingPolicy())
    assert revision is not None and (revision.id, revision.expected_version, revision.version) == (current.id, 4, 5)
    memory = revision.memory
    assert (memory.chunks, memory.kind, memory.metadata, memory.occurred_at, memory.channel_id, memory.scope) == (
        ["the new text"], "fact", {"p": 1}, T0, "c", SOFIA)
    assert revision.digest.content_hash == content_hash("", "", "the new text")
    assert revision.digest.content_bytes == len("the new text")


def test_a_patch_that_repeats_what_the_memory_holds_changes_nothing() -> None:
    current = memory_record(SOFIA, "same")
    assert revise(current, patch(content={"text": "same"}, kind="fact", metadata={}), MemoryLimits(),
                  ChunkingPolicy()) is None
    assert revise(current, patch(metadata={"p": 1}), MemoryLimits(), ChunkingPolicy()) is not None


@pytest.mark.parametrize(("fields", "message"), [
    ({"content": {"text": "   "}}, "content is empty"), ({"kind": "poem"}, "unknown kind 'poem'"),
    ({"kind": ""}, "unknown kind ''"), ({"metadata": {f"k{i}": i for i in range(33)}}, "metadata has 33 keys"),
    ({"content": {"text": "x" * 40}}, "content is 40 bytes; the limit is 32"),
])
def test_a_patch_is_held_to_the_rules_of_a_store(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        revise(memory_record(SOFIA, "old"), patch(**fields), MemoryLimits(max_content_bytes=32), ChunkingPolicy())


@pytest.mark.parametrize(("header", "version"), [('"3"', 3), ('W/"3"', 3), ("3", 3), (' "12" ', 12), ("*", None),
                                                 (None, None)])
def test_if_match_names_a_version_as_an_etag_or_a_number_or_any_with_a_star(header: str | None,
                                                                            version: int | None) -> None:
    assert expected_version(header) == version


@pytest.mark.parametrize("header", ["", "yesterday", '"3", "4"', '"-1"', '"1e3"'])
def test_an_if_match_that_names_no_single_version_is_a_400(header: str) -> None:
    with pytest.raises(InvalidRequest, match="If-Match"):
        expected_version(header)


def test_the_history_tells_each_version_by_its_ledger_entry_and_marks_one_the_ledger_lacks() -> None:
    first = memory_record(SOFIA, "first")
    second = msgspec.structs.replace(first, text="second", content=MemoryContent(text="second"), version=2,
                                     updated_at=T0 + timedelta(hours=1))
    stored = LedgerEntry.of(MemoryStored, stored_entry_id(first.id), request_id="r-1", memory_id=first.id,
                            agent_id="sofia", microdao_id="m7", tier="mid", kind="fact", content_bytes=5)
    assert entry_id_of(first.id, 1) == stored.id and entry_id_of(first.id, 2) == updated_entry_id(first.id, 2)
    history = build_history(first.id, [current_version(first), current_version(second)],
                            {stored.id: stored.pending_events[0], uuid.uuid4(): None})
    assert history.version == 2
    assert [(e.version, e.event, e.recorded, e.request_id, e.text, e.at) for e in history.entries] == [
        (1, "stored", True, "r-1", "first", stored.pending_events[0].timestamp),
        (2, "updated", False, None, "second", T0 + timedelta(hours=1))]
