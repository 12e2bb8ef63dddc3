"""A memory's history: its versions, each told by the ledger entry that made it.

Version 1 is the memory's MemoryStored entry, version N > 1 the MemoryUpdated entry of the correction
that made it; both have ids derived from the memory (domain.memory.records), so the history asks the
ledger for exactly those entries instead of scanning it. The ledger holds no content, so each entry is
joined with the text of its version: the superseded ones kept beside the memory (memory_versions), the
current one in the memory itself.

A forgotten memory has no history: forgetting erases every version of its text, and its id then reads as
missing here as everywhere (404). Its MemoryStored, MemoryUpdated and MemoryForgotten entries stay in
the ledger, sizes and hashes only, as the audit of what happened.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import msgspec

from domain.memory.model import MemoryContent, Metadata
from domain.memory.records import stored_entry_id, updated_entry_id
from domain.memory.revisions import MemoryVersion


class LedgerEvents(Protocol):
    async def events(self, entry_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
        """The creation event of each of `entry_ids` the ledger holds (entries it lacks are left out)."""
        ...


class HistoryEntry(msgspec.Struct, frozen=True):
    """One version. `event`: the ledger entry that made it ("stored" or "updated"); `at` and `request_id`
    are that entry's. `recorded` is false only while the ledger lacks the entry (its write failed and the
    client has not retried yet): `at` is then when the version was written."""

    version: int
    event: str
    at: datetime
    recorded: bool
    request_id: str | None
    kind: str
    content: MemoryContent
    text: str
    content_hash: str
    content_bytes: int
    metadata: Metadata


class MemoryHistory(msgspec.Struct, frozen=True):
    """Every version of memory `id`, oldest first; the last is the current one (`version`)."""

    id: str
    version: int
    entries: list[HistoryEntry]


def entry_id_of(memory_id: str, version: int) -> uuid.UUID:
    return stored_entry_id(memory_id) if version == 1 else updated_entry_id(memory_id, version)


def build_history(memory_id: str, versions: Sequence[MemoryVersion], events: dict[uuid.UUID, Any]) -> MemoryHistory:
    entries = []
    for version in versions:
        event = events.get(entry_id_of(memory_id, version.version))
        entries.append(HistoryEntry(
            version=version.version, event="stored" if version.version == 1 else "updated",
            at=version.valid_from if event is None else event.timestamp, recorded=event is not None,
            request_id=None if event is None else event.request_id, kind=version.kind, content=version.content,
            text=version.text, content_hash=version.content_hash, content_bytes=version.content_bytes,
            metadata=version.metadata,
        ))
    return MemoryHistory(memory_id, versions[-1].version, entries)
