"""Corrections of a memory (PATCH): what a patch may change, the version it makes, and what the store keeps.

A correction replaces a mid-term memory's content (and/or its kind or metadata) in place: same id, new
chunks, indexed again like a new memory, version + 1. The superseded version is kept beside the memory
(never in the ledger, which is forever and holds sizes and hashes only), so forgetting the memory forgets
every version of its text. Knowledge documents are corrected by posting them again, not here.

Concurrency is optimistic. A client that read version N sends `If-Match: "N"`; if the memory moved on
in between, the correction is refused with 412 and nothing changes. Without If-Match the correction
applies to whatever version is current (it is read, revised and written conditionally on that version,
again if a concurrent correction slipped in between): the last writer wins, and every version stays in
the history.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Protocol

import msgspec

from domain.kernel.errors import InvalidRequest
from domain.memory.chunking import ChunkingPolicy
from domain.memory.commands import StoreMemory, to_memory
from domain.memory.model import MemoryContent, MemoryLimits, Metadata, NewMemory, Scope, content_hash
from domain.memory.records import MemoryRecord


class PatchMemory(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The fields to change; what is left out stays. `content` and `metadata` are replaced whole."""

    content: MemoryContent | None = None
    kind: str | None = None
    metadata: Metadata | None = None


class Revision(msgspec.Struct, frozen=True):
    """The next version of memory `id`, to be written only while `expected_version` is its current one."""

    id: str
    expected_version: int
    memory: NewMemory

    @property
    def version(self) -> int:
        return self.expected_version + 1

    @property
    def digest(self) -> Digest:
        return Digest(self.memory.content_hash, self.memory.content_bytes)


class Digest(msgspec.Struct, frozen=True):
    """What the ledger says of a version's content: its hash and size, never the text."""

    content_hash: str
    content_bytes: int


class MemoryVersion(msgspec.Struct, frozen=True):
    """One version of a memory's content, current from `valid_from`."""

    version: int
    kind: str
    content: MemoryContent
    text: str
    content_hash: str
    content_bytes: int
    metadata: Metadata
    valid_from: datetime

    @property
    def digest(self) -> Digest:
        return Digest(self.content_hash, self.content_bytes)


class RevisionStore(Protocol):
    async def revise(self, revision: Revision, index_model: str) -> Digest | None:
        """Writes the revision (content, new chunks and indexing job, the old version kept) if the memory
        is still at `expected_version` and returns the digest of the version it replaced; None if the memory
        is not at that version (or is gone). Raises Conflict when another memory
        of the agent already holds the new content."""
        ...

    async def superseded(self, scope: Scope, item_id: str) -> list[MemoryVersion]:
        """The versions memory `item_id` of the scope's agent had before its current one, oldest first."""
        ...


def revise(current: MemoryRecord, patch: PatchMemory, limits: MemoryLimits, chunking: ChunkingPolicy,
           ) -> Revision | None:
    """The revision `patch` makes of `current` (a mid-term memory); None if it changes nothing."""
    if patch.content is None and patch.kind is None and patch.metadata is None:
        raise InvalidRequest("give at least one of 'content', 'kind' and 'metadata' to change")
    assert current.content is not None, "only mid-term memories are revised"
    wanted = StoreMemory(
        content=current.content if patch.content is None else patch.content,
        kind=current.kind if patch.kind is None else patch.kind,
        metadata=current.metadata if patch.metadata is None else patch.metadata, occurred_at=current.occurred_at,
        channel_id=current.channel_id, user_id=current.user_id,
    )
    if (wanted.content, wanted.kind, wanted.metadata) == (current.content, current.kind, current.metadata):
        return None
    scope = Scope(current.microdao_id, current.agent_id)
    return Revision(current.id, current.version, to_memory(wanted, scope, limits, chunking))


def current_version(record: MemoryRecord) -> MemoryVersion:
    """The version a memory's own row holds; its hash and size are computed as a store computes them."""
    content = record.content
    assert content is not None, "only mid-term memories have versions"
    parts = (content.user_message, content.agent_reply, content.text)
    return MemoryVersion(record.version, record.kind, content, record.text, content_hash(*parts),
                         len("".join(parts).encode()), record.metadata, record.updated_at)


_ETAG = re.compile(r'\s*(?:W/)?"?(\d{1,9})"?\s*')


def expected_version(if_match: str | None) -> int | None:
    """The version an If-Match header names (`"3"`, `W/"3"` or `3`); None for no header or `*` (any)."""
    if if_match is None or if_match.strip() == "*":
        return None
    found = _ETAG.fullmatch(if_match)
    if found is None:
        raise InvalidRequest(f"If-Match must name one version of the memory, like \"3\"; got '{if_match[:40]}'")
    return int(found.group(1))


def etag(version: int) -> str:
    return f'"{version}"'
