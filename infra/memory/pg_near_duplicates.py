"""PgNearDuplicates: the nearest of an agent's memories to a new one, merged into when near enough.

One tenant transaction of the agent: the exact-duplicate guard, the nearest vectors (the partial HNSW
index of the dimension, as the search's vector leg), then the merge count of the memory found, which locks
only that item row (infra.memory.pg_sql's first lock).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.memory.model import NewMemory
from domain.memory.near_duplicates import NearMatch
from infra.memory.pg_sql import retry_conflicts
from infra.platform.tenancy import tenant_transaction

# Candidates read from the index before the kind, channel and one-chunk rules filter them.
CANDIDATES = 8

_EXACT = ("SELECT EXISTS (SELECT 1 FROM memory_items WHERE tier = 'mid' AND microdao_id = $1 AND agent_id = $2 "
          "AND (content_hash = $3 OR idempotency_key = $4))")

_NEAREST = """
    WITH near AS MATERIALIZED (
        SELECT e.chunk_id, e.embedding::vector({dims}) <=> $1 AS distance FROM memory_embeddings e
        WHERE e.dims = {dims} AND e.model = $2 AND e.tier = 'mid' AND e.microdao_id = $3 AND e.agent_id = $4
        ORDER BY distance LIMIT {candidates})
    SELECT i.id, 1 - near.distance AS similarity
    FROM near JOIN memory_chunks c ON c.id = near.chunk_id JOIN memory_items i ON i.id = c.item_id
    WHERE i.kind = $5 AND i.channel_id IS NOT DISTINCT FROM $6 AND 1 - near.distance >= $7
      AND NOT EXISTS (SELECT 1 FROM memory_chunks other WHERE other.item_id = i.id AND other.seq > 0)
    ORDER BY near.distance LIMIT 1
"""

_MERGE = ("UPDATE memory_items SET merge_count = merge_count + 1, last_seen_at = now() WHERE id = $1 "
          "RETURNING (SELECT count(*) FROM memory_chunks c WHERE c.item_id = $1) AS chunks")


class PgNearDuplicates:
    def __init__(self, pool: Any, dims: int) -> None:
        self._pool = pool
        self._nearest = _NEAREST.format(dims=int(dims), candidates=CANDIDATES)

    async def merge_nearest(
        self, memory: NewMemory, vector: Sequence[float], model: str, threshold: float,
    ) -> NearMatch | None:
        return await retry_conflicts("merging a near-duplicate memory",
                                     lambda: self._merge_nearest(memory, vector, model, threshold))

    async def _merge_nearest(
        self, memory: NewMemory, vector: Sequence[float], model: str, threshold: float,
    ) -> NearMatch | None:
        scope = memory.scope
        async with tenant_transaction(self._pool, scope.microdao_id, scope.agent_id) as connection:
            if await connection.fetchval(_EXACT, scope.microdao_id, scope.agent_id, memory.content_hash,
                                         memory.idempotency_key):
                return None
            near = await connection.fetchrow(self._nearest, vector, model, scope.microdao_id, scope.agent_id,
                                             memory.kind, memory.channel_id, threshold)
            if near is None:
                return None
            chunks = await connection.fetchval(_MERGE, near["id"])
            return NearMatch(str(near["id"]), float(near["similarity"]), chunks)
