"""PgMemoryStore: memories and knowledge documents in PostgreSQL (tables of alembic 0002_memory).

Every call runs in a tenant transaction of its scope (infra.platform.tenancy): besides the scope each
statement names, the row-level security of alembic 0007_memory_rls admits only that scope's rows. Writes
lock in the order infra.memory.pg_sql states (the item rows first) and run again when the server aborts
them for a lock conflict, so a deadlock or serialization failure never reaches the caller as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import msgspec

from domain.kernel.errors import Conflict
from domain.memory.commands import Search
from domain.memory.model import MemoryContent, NewDocument, NewMemory, Scope
from domain.memory.ranking import Candidate
from domain.memory.records import DocumentResult, Forgotten, MemoryRecord, ShortTermTurn, StoreResult
from infra.memory.pg_documents import put_document
from infra.memory.pg_search_sql import (
    TS_RANK,
    TextRanking,
    candidate_of,
    text_leg_sql,
    unknown_words_sql,
    vector_leg_sql,
)
from infra.memory.pg_sql import CHUNKS_AND_JOB, named, retry_conflicts
from infra.platform.tenancy import tenant_transaction

# Dimensions with an HNSW index (alembic 0002_memory creates one partial index per entry).
INDEXED_DIMENSIONS = (384, 768, 1024, 1536)

_INSERT_MEMORY = """
    WITH item AS (
        INSERT INTO memory_items (id, tier, kind, microdao_id, agent_id, channel_id, user_id, content, text,
                                  content_hash, content_bytes, idempotency_key, metadata, occurred_at)
        VALUES ($id, 'mid', $kind, $microdao, $agent, $channel, $user, $content::jsonb, $text, $hash, $bytes,
                $key, $metadata::jsonb, $occurred)
        ON CONFLICT DO NOTHING
        RETURNING id
    ),""" + CHUNKS_AND_JOB.format(tier="'mid'", kind="$kind")

# An idempotency key stands for the store call that used it: its content is the memory's first version,
# which a correction (infra.memory.pg_revisions) may have replaced since.
_EXISTING_MEMORY = """
    SELECT id, coalesce((SELECT v.content_hash FROM memory_versions v
                         WHERE v.item_id = i.id AND v.microdao_id = i.microdao_id AND v.version = 1),
                        content_hash) AS content_hash,
           idempotency_key IS NOT DISTINCT FROM $3 AS same_key,
           (SELECT count(*) FROM memory_chunks c WHERE c.item_id = i.id) AS chunks
    FROM memory_items i
    WHERE tier = 'mid' AND microdao_id = $1 AND agent_id = $2 AND (idempotency_key = $3 OR content_hash = $4)
    ORDER BY same_key DESC LIMIT 1
"""

# The scope clause is domain.memory.model.visible: the microDAO's documents, or the agent's own memories.
_VISIBLE = "microdao_id = $3 AND (tier = 'long' OR agent_id = $4)"

_RECORD = f"""
    SELECT i.*, (SELECT count(*) FROM memory_chunks c WHERE c.item_id = i.id) AS chunks,
           (SELECT count(*) FROM memory_chunks c JOIN memory_embeddings e ON e.chunk_id = c.id AND e.model = $2
            WHERE c.item_id = i.id) AS indexed_chunks
    FROM memory_items i WHERE i.id = $1 AND {_VISIBLE}
"""

_FORGET = f"DELETE FROM memory_items WHERE id = $1 AND tier = $2 AND {_VISIBLE} RETURNING id, tier, microdao_id, agent_id"

# The items locked in id order before any goes, as every writer of several items locks them.
_FORGET_AGENT = ("DELETE FROM memory_items WHERE id IN (SELECT id FROM memory_items WHERE tier = 'mid' "
                 "AND microdao_id = $1 AND agent_id = $2 ORDER BY id FOR UPDATE) "
                 "RETURNING id, tier, microdao_id, agent_id")

_RECENT_TURNS = (
    "SELECT id, occurred_at, content, user_id FROM memory_items WHERE tier = 'mid' AND microdao_id = $1 "
    "AND agent_id = $2 AND channel_id = $3 AND kind = 'conversation' ORDER BY occurred_at DESC, created_at DESC LIMIT $4"
)


_MEMORY_ARGS = ("id", "kind", "microdao", "agent", "channel", "user", "content", "text", "hash", "bytes", "key",
                "metadata", "occurred", "chunks", "model")
_INSERT_MEMORY_SQL = named(_INSERT_MEMORY, _MEMORY_ARGS)


class PgMemoryStore:
    def __init__(
        self, pool: Any, dims: int, text_ranking: TextRanking = TS_RANK, vector_neighbour_weight: float = 0.0,
    ) -> None:
        self._pool = pool
        self._dims = dims
        self._text_ranking = text_ranking
        self._vector_neighbour_weight = vector_neighbour_weight

    def _tenant(self, scope: Scope) -> AbstractAsyncContextManager[Any]:
        return tenant_transaction(self._pool, scope.microdao_id, scope.agent_id)

    async def add_memory(self, memory: NewMemory, index_model: str) -> StoreResult:
        stored = None
        while stored is None:  # None: the conflicting row was forgotten in between; store it afresh
            stored = await retry_conflicts("storing a memory", lambda: self._add_memory(memory, index_model))
        return stored

    async def _add_memory(self, memory: NewMemory, index_model: str) -> StoreResult | None:
        scope = memory.scope
        async with self._tenant(scope) as connection:
            # One statement: the item, its chunks and its indexing job commit together or not at all.
            inserted = await connection.fetchval(
                _INSERT_MEMORY_SQL, memory.id, memory.kind, scope.microdao_id, scope.agent_id,
                memory.channel_id, memory.user_id, msgspec.to_builtins(memory.content), memory.text,
                memory.content_hash, memory.content_bytes, memory.idempotency_key, memory.metadata,
                memory.occurred_at, memory.chunks, index_model,
            )
            if inserted is not None:
                return StoreResult(str(inserted), True, len(memory.chunks))
            row = await connection.fetchrow(_EXISTING_MEMORY, scope.microdao_id, scope.agent_id,
                                            memory.idempotency_key, memory.content_hash)
        if row is None:
            return None
        if row["same_key"] and memory.idempotency_key is not None and row["content_hash"] != memory.content_hash:
            raise Conflict(f"idempotency key '{memory.idempotency_key}' was used for other content "
                           f"(memory {row['id']})")
        return StoreResult(str(row["id"]), False, row["chunks"])

    async def put_document(self, document: NewDocument, index_model: str) -> DocumentResult:
        return await retry_conflicts("storing a document", lambda: put_document(self._pool, document, index_model))

    async def get(self, scope: Scope, item_id: str, model: str) -> MemoryRecord | None:
        async with self._tenant(scope) as connection:
            row = await connection.fetchrow(_RECORD, item_id, model, scope.microdao_id, scope.agent_id)
        return None if row is None else _record(row)

    async def forget(self, scope: Scope, item_id: str, tier: str) -> Forgotten | None:
        async def once() -> Any:
            async with self._tenant(scope) as connection:
                return await connection.fetchrow(_FORGET, item_id, tier, scope.microdao_id, scope.agent_id)

        row = await retry_conflicts("forgetting a memory", once)
        return None if row is None else _forgotten(row)

    async def forget_agent(self, scope: Scope) -> list[Forgotten]:
        async def once() -> Any:
            async with self._tenant(scope) as connection:
                return await connection.fetch(_FORGET_AGENT, scope.microdao_id, scope.agent_id)

        return [_forgotten(row) for row in await retry_conflicts("forgetting an agent's memories", once)]

    async def recent_turns(self, scope: Scope, channel_id: str, limit: int) -> list[ShortTermTurn]:
        async with self._tenant(scope) as connection:
            rows = await connection.fetch(_RECENT_TURNS, scope.microdao_id, scope.agent_id, channel_id, limit)
        return [
            ShortTermTurn(str(row["id"]), row["occurred_at"], user_id=row["user_id"], **row["content"])
            for row in reversed(rows)
        ]

    async def vector_search(
        self, search: Search, vector: Sequence[float], model: str, per_leg: int,
    ) -> list[Candidate]:
        sql, args = vector_leg_sql(search, vector, model, self._dims, per_leg, self._vector_neighbour_weight)
        async with self._tenant(search.scope) as connection:
            rows = await connection.fetch(sql, *args)
        return [candidate_of(row, "vector") for row in rows]

    async def text_search(self, search: Search, per_leg: int) -> list[Candidate]:
        statement = text_leg_sql(search, per_leg, self._text_ranking)
        if statement is None:
            return []
        sql, args = statement
        async with self._tenant(search.scope) as connection:
            rows = await connection.fetch(sql, *args)
        return [candidate_of(row, "text") for row in rows]

    async def unknown_words(self, search: Search, words: Sequence[str]) -> set[str]:
        if not words:
            return set()
        sql, args = unknown_words_sql(search, words)
        async with self._tenant(search.scope) as connection:
            return {row["word"] for row in await connection.fetch(sql, *args)}


def _forgotten(row: Any) -> Forgotten:
    return Forgotten(str(row["id"]), row["tier"], row["microdao_id"], row["agent_id"])


def _record(row: Any) -> MemoryRecord:
    content = msgspec.convert(row["content"], MemoryContent) if row["tier"] == "mid" else None
    return MemoryRecord(
        id=str(row["id"]), tier=row["tier"], kind=row["kind"], microdao_id=row["microdao_id"],
        agent_id=row["agent_id"], text=row["text"], metadata=row["metadata"], occurred_at=row["occurred_at"],
        created_at=row["created_at"], updated_at=row["updated_at"], chunks=row["chunks"],
        indexed_chunks=row["indexed_chunks"], content=content, channel_id=row["channel_id"],
        user_id=row["user_id"], title=row["title"], source_uri=row["source_uri"], version=row["version"],
        merge_count=row["merge_count"], last_seen_at=row["last_seen_at"],
    )
