"""PgRevisionStore: corrections of mid-term memories and the versions they superseded (alembic 0950).

A correction runs in a tenant transaction of the memory's agent and locks in the order infra.memory.pg_sql
states: the item row (FOR UPDATE) first, then its job, its chunks (their vectors by cascade), and last the
memory_versions row it adds, which nothing writes without holding the item. A worker still embedding the
old chunks finds its job gone and writes nothing, as when a document is replaced.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg
import msgspec

from domain.kernel.errors import Conflict
from domain.memory.model import MemoryContent, Scope
from domain.memory.revisions import Digest, MemoryVersion, Revision
from infra.memory.pg_sql import CHUNKS_AND_JOB, named, retry_conflicts
from infra.platform.tenancy import tenant_transaction

_LOCK = ("SELECT version, content_hash, content_bytes FROM memory_items "
         "WHERE id = $1 AND tier = 'mid' AND microdao_id = $2 AND agent_id = $3 FOR UPDATE")

_HOLDER = ("SELECT id FROM memory_items WHERE tier = 'mid' AND microdao_id = $1 AND agent_id = $2 "
           "AND content_hash = $3 AND id <> $4")

# The version being replaced, as it was: current from its last write (updated_at) until now.
_KEEP = """
    INSERT INTO memory_versions (item_id, version, microdao_id, agent_id, kind, content, text, content_hash,
                                 content_bytes, metadata, valid_from)
    SELECT id, version, microdao_id, agent_id, kind, content, text, content_hash, content_bytes, metadata, updated_at
    FROM memory_items WHERE id = $1
"""

_ARGS = ("id", "kind", "content", "text", "hash", "bytes", "metadata", "microdao", "agent", "occurred", "chunks",
         "model")
_REPLACE = named("""
    WITH item AS (
        UPDATE memory_items SET kind = $kind, content = $content::jsonb, text = $text, content_hash = $hash,
               content_bytes = $bytes, metadata = $metadata::jsonb, version = version + 1, updated_at = now()
        WHERE id = $id
        RETURNING id
    ),""" + CHUNKS_AND_JOB.format(tier="'mid'", kind="$kind"), _ARGS)

_SUPERSEDED = ("SELECT version, kind, content, text, content_hash, content_bytes, metadata, valid_from "
               "FROM memory_versions WHERE item_id = $1 AND microdao_id = $2 AND agent_id = $3 ORDER BY version")


class PgRevisionStore:
    def __init__(self, pool: Any) -> None:
        self._pool = pool

    def _tenant(self, scope: Scope) -> AbstractAsyncContextManager[Any]:
        return tenant_transaction(self._pool, scope.microdao_id, scope.agent_id)

    async def revise(self, revision: Revision, index_model: str) -> Digest | None:
        return await retry_conflicts("correcting a memory", lambda: self._revise(revision, index_model))

    async def _revise(self, revision: Revision, index_model: str) -> Digest | None:
        memory, scope = revision.memory, revision.memory.scope
        async with self._tenant(scope) as connection:
            row = await connection.fetchrow(_LOCK, revision.id, scope.microdao_id, scope.agent_id)
            if row is None or row["version"] != revision.expected_version:
                return None
            if (holder := await connection.fetchval(_HOLDER, scope.microdao_id, scope.agent_id, memory.content_hash,
                                                    revision.id)) is not None:
                raise Conflict(f"memory {holder} already holds this content; forget one of them instead")
            await connection.execute("DELETE FROM memory_index_jobs WHERE item_id = $1", revision.id)
            await connection.execute("DELETE FROM memory_chunks WHERE item_id = $1", revision.id)
            await connection.execute(_KEEP, revision.id)
            try:
                await connection.fetchval(
                    _REPLACE, revision.id, memory.kind, msgspec.to_builtins(memory.content), memory.text,
                    memory.content_hash, memory.content_bytes, memory.metadata, scope.microdao_id, scope.agent_id,
                    memory.occurred_at, memory.chunks, index_model,
                )
            except asyncpg.UniqueViolationError:  # a memory with this content was stored meanwhile
                raise Conflict("another memory of this agent already holds this content") from None
            return Digest(row["content_hash"], row["content_bytes"])

    async def superseded(self, scope: Scope, item_id: str) -> list[MemoryVersion]:
        async with self._tenant(scope) as connection:
            rows = await connection.fetch(_SUPERSEDED, item_id, scope.microdao_id, scope.agent_id)
        return [
            MemoryVersion(row["version"], row["kind"], msgspec.convert(row["content"], MemoryContent), row["text"],
                          row["content_hash"], row["content_bytes"], row["metadata"], row["valid_from"])
            for row in rows
        ]
