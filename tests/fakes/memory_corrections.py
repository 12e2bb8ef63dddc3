"""Twins of the correction ports: mid-term memories as MemoryRecords with their superseded versions, the
ledger's entries read back from a FakeRecorder, and a near-duplicate store that answers what it is told."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from domain.memory.model import MemoryContent, NewMemory, Scope, visible
from domain.memory.near_duplicates import NearMatch
from domain.memory.records import MemoryRecord
from domain.memory.revisions import Digest, MemoryVersion, Revision, current_version
from tests.fakes.ledger import FakeRecorder

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


def memory_record(scope: Scope, text: str, kind: str = "fact", tier: str = "mid") -> MemoryRecord:
    return MemoryRecord(
        id=str(uuid.uuid4()), tier=tier, kind=kind, microdao_id=scope.microdao_id, agent_id=scope.agent_id,
        text=text, metadata={}, occurred_at=T0, created_at=T0, updated_at=T0, chunks=1, indexed_chunks=1,
        content=MemoryContent(text=text) if tier == "mid" else None,
    )


class RevisedMemories:
    """The MemoryReader and RevisionStore twin. `interleave`: corrections another writer makes just before
    each of the next revise calls (a race the caller loses)."""

    def __init__(self, *records: MemoryRecord) -> None:
        self.records = {record.id: record for record in records}
        self.versions: dict[str, list[MemoryVersion]] = {}
        self.interleave: list[str] = []
        self.written: list[Revision] = []

    async def get(self, scope: Scope, item_id: str, model: str) -> MemoryRecord | None:
        record = self.records.get(item_id)
        if record is None or not visible(record.tier, record.microdao_id, record.agent_id, scope):
            return None
        return record

    async def revise(self, revision: Revision, index_model: str) -> Digest | None:
        if self.interleave:
            record, text = self.records[revision.id], self.interleave.pop(0)
            self._write(record, msgspec.structs.replace(record, text=text, content=MemoryContent(text=text),
                                                        version=record.version + 1))
        current = self.records.get(revision.id)
        if current is None or current.version != revision.expected_version:
            return None
        memory = revision.memory
        self.written.append(revision)
        return self._write(current, msgspec.structs.replace(
            current, kind=memory.kind, content=memory.content, text=memory.text, metadata=memory.metadata,
            version=revision.version, chunks=len(memory.chunks), indexed_chunks=0))

    def _write(self, old: MemoryRecord, new: MemoryRecord) -> Digest:
        replaced = current_version(old)
        self.versions.setdefault(old.id, []).append(replaced)
        self.records[old.id] = new
        return replaced.digest

    async def superseded(self, scope: Scope, item_id: str) -> list[MemoryVersion]:
        return list(self.versions.get(item_id, [])) if await self.get(scope, item_id, "") else []


class RecordedLedger:
    """The LedgerEvents twin over what a FakeRecorder holds."""

    def __init__(self, recorder: FakeRecorder) -> None:
        self._recorder = recorder

    async def events(self, entry_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
        held = {entry.id: entry.pending_events[0] for entry in self._recorder.entries}
        return {entry_id: held[entry_id] for entry_id in entry_ids if entry_id in held}


class NearestIs:
    """The NearDuplicateStore twin: answers `match` when its similarity reaches the threshold."""

    def __init__(self, match: NearMatch | None = None) -> None:
        self.match = match
        self.asked: list[tuple[NewMemory, float]] = []

    async def merge_nearest(
        self, memory: NewMemory, vector: Sequence[float], model: str, threshold: float,
    ) -> NearMatch | None:
        self.asked.append((memory, threshold))
        return self.match if self.match is not None and self.match.similarity >= threshold else None
