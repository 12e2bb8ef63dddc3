"""HTTP bodies of the memory service. Requests are the domain's strict command Structs."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from domain.kernel.errors import InvalidRequest
from domain.memory.commands import PostDocument, QueryMemory, StoreMemory
from domain.memory.history import MemoryHistory
from domain.memory.records import MemoryRecord
from domain.memory.revisions import PatchMemory
from domain.memory.service import QueryResult

__all__ = ["DocumentResponse", "ForgetResponse", "MemoryHistory", "MemoryRecord", "PatchMemory", "PostDocument",
           "QueryMemory", "QueryResult", "StoreMemory", "StoreResponse", "check_timestamps"]

# PostgreSQL keeps years 4713 BC to 294276 AD, but asyncpg reads back only Python's years 1 to 9999 and stores
# Python's datetime.min/max as -infinity/infinity, which come back without a time zone: a stored or searched
# timestamp must lie inside, or one write breaks every later recall of the agent.
EARLIEST, LATEST = datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC)


class StoreResponse(msgspec.Struct, frozen=True, omit_defaults=True):
    """`merged`: the content was a near-duplicate of memory `id` (cosine `similarity`) and counted there."""

    id: str
    ids: list[str]
    deduplicated: bool
    chunks: int
    merged: bool = False
    similarity: float | None = None


class DocumentResponse(msgspec.Struct, frozen=True):
    id: str
    chunks: int
    created: bool
    replaced: bool
    unchanged: bool


class ForgetResponse(msgspec.Struct, frozen=True):
    forgotten: list[str]


def check_timestamps(**stamps: datetime | None) -> None:
    for name, stamp in stamps.items():
        if stamp is not None and not EARLIEST <= stamp <= LATEST:
            raise InvalidRequest(f"{name} must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)")
