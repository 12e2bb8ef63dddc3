"""HTTP bodies of the memory service. Requests are the domain's strict command Structs."""

from __future__ import annotations

import msgspec

from domain.memory.commands import PostDocument, QueryMemory, StoreMemory
from domain.memory.records import MemoryRecord
from domain.memory.service import QueryResult

__all__ = ["DocumentResponse", "ForgetResponse", "MemoryRecord", "PostDocument", "QueryMemory", "QueryResult",
           "StoreMemory", "StoreResponse"]


class StoreResponse(msgspec.Struct, frozen=True):
    id: str
    ids: list[str]
    deduplicated: bool
    chunks: int


class DocumentResponse(msgspec.Struct, frozen=True):
    id: str
    chunks: int
    created: bool
    replaced: bool
    unchanged: bool


class ForgetResponse(msgspec.Struct, frozen=True):
    forgotten: list[str]
