"""What the memory store gives back: write results (with the ids of their ledger entries), stored items,
recent turns and what a forget removed."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from domain.memory.model import MemoryContent, Metadata

# Stable namespace of the ledger entry ids derived from stored items (never change: ids in the ledger use it).
_STORED_NAMESPACE = uuid.UUID("0b6f3c52-1d8e-4f0a-b7c4-5a2e9d81f364")


def stored_entry_id(memory_id: str) -> uuid.UUID:
    """One MemoryStored per memory, however often it is stored (a retry, the same content again)."""
    return uuid.uuid5(_STORED_NAMESPACE, f"memory-stored:{memory_id}")


def updated_entry_id(memory_id: str, version: int) -> uuid.UUID:
    """One MemoryUpdated per version a correction made: a retried correction finds the entry of its first try."""
    return uuid.uuid5(_STORED_NAMESPACE, f"memory-updated:{memory_id}:{version}")


class StoreResult(msgspec.Struct, frozen=True):
    """`merged`: the content was a near-duplicate of memory `id` (cosine `similarity`), counted there."""

    id: str
    created: bool
    chunks: int
    merged: bool = False
    similarity: float | None = None

    @property
    def ledger_entry_id(self) -> uuid.UUID:
        return stored_entry_id(self.id)


class DocumentResult(msgspec.Struct, frozen=True):
    id: str
    created: bool
    replaced: bool
    unchanged: bool
    chunks: int
    revision: str = ""  # changes with every write that changes the document (PostgreSQL: its updated_at)

    def ledger_entry_id(self, content_hash: str) -> uuid.UUID:
        """One MemoryStored per version of the document: a retried or repeated post of the same version
        derives the same id, a replacement a new one (even back to content the document had before)."""
        return uuid.uuid5(_STORED_NAMESPACE, f"document-stored:{self.id}:{content_hash}:{self.revision}")


class MemoryRecord(msgspec.Struct, frozen=True):
    """One stored item as GET returns it; `indexed_chunks` counts vectors of the serving model."""

    id: str
    tier: str
    kind: str
    microdao_id: str
    agent_id: str
    text: str
    metadata: Metadata
    occurred_at: datetime
    created_at: datetime
    updated_at: datetime
    chunks: int
    indexed_chunks: int
    content: MemoryContent | None = None
    channel_id: str | None = None
    user_id: str | None = None
    title: str | None = None
    source_uri: str | None = None
    version: int = 1  # +1 per correction; a correction's If-Match names it
    merge_count: int = 0  # near-duplicate stores merged into this memory
    last_seen_at: datetime | None = None  # the latest of them


class ShortTermTurn(msgspec.Struct, frozen=True, omit_defaults=True):
    """One recent turn of a channel, as the short-term tier returns it (oldest first)."""

    id: str
    occurred_at: datetime
    user_message: str = ""
    agent_reply: str = ""
    text: str = ""
    user_id: str | None = None


class Forgotten(msgspec.Struct, frozen=True):
    id: str
    tier: str
    microdao_id: str
    agent_id: str
