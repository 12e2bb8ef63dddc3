"""PgIndexingQueue: the durable indexing queue in table memory_index_jobs (alembic 0002_memory).

Claiming takes ready jobs with FOR UPDATE SKIP LOCKED (concurrent workers never take the same job),
bumps `attempts` and sets a lease, and commits at once: a worker that dies keeps nothing locked, and
its jobs are ready again when the lease runs out (a live worker renews it while it embeds). Completion
deletes the jobs only where `locked_by` is still this worker, in the transaction that writes the vectors.

Row locks follow the order infra.memory.pg_sql states: completion and reindexing lock the items first;
renew and fail never wait (SKIP LOCKED: a job someone else has locked is being deleted with its item's
old chunks, and its lease or error no longer matters).

The queue serves every tenant, so it works as the tables' owner, outside row-level security.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pgvector import Vector

from domain.memory.queue import ChunkText, IndexedJob, IndexJob, JobFailure, QueueStats
from infra.memory.pg_sql import retry_conflicts

_CLAIM = """
    WITH ready AS (
        SELECT id FROM memory_index_jobs
        WHERE model = $1 AND dead_at IS NULL AND run_after <= now()
          AND (locked_until IS NULL OR locked_until < now())
        ORDER BY run_after, id
        LIMIT $2
        FOR UPDATE SKIP LOCKED
    )
    UPDATE memory_index_jobs j
    SET attempts = j.attempts + 1, locked_by = $3, locked_until = now() + make_interval(secs => $4)
    FROM ready WHERE j.id = ready.id
    RETURNING j.id, j.item_id, j.attempts
"""

_CHUNKS = """
    SELECT i.id AS item_id, i.tier, i.microdao_id, i.agent_id, c.id AS chunk_id, c.text
    FROM memory_items i LEFT JOIN memory_chunks c ON c.item_id = i.id
    WHERE i.id = ANY($1::uuid[]) ORDER BY i.id, c.seq
"""

_WRITE_VECTORS = """
    INSERT INTO memory_embeddings (chunk_id, model, dims, tier, microdao_id, agent_id, embedding)
    SELECT c.id, $3, $4, c.tier, c.microdao_id, c.agent_id, v.embedding
    FROM unnest($1::bigint[], $2::vector[]) AS v(chunk_id, embedding) JOIN memory_chunks c ON c.id = v.chunk_id
    ON CONFLICT (chunk_id, model, microdao_id) DO UPDATE
    SET embedding = EXCLUDED.embedding, dims = EXCLUDED.dims, embedded_at = now()
"""

_WRITE_TOKEN_VECTORS = """
    INSERT INTO memory_token_vectors (chunk_id, model, microdao_id, tier, agent_id, tokens, dims, vectors)
    SELECT c.id, $3, c.microdao_id, c.tier, c.agent_id, length(v.vectors) / $4, $4, v.vectors
    FROM unnest($1::bigint[], $2::bytea[]) AS v(chunk_id, vectors) JOIN memory_chunks c ON c.id = v.chunk_id
    ON CONFLICT (chunk_id, model, microdao_id) DO UPDATE
    SET vectors = EXCLUDED.vectors, tokens = EXCLUDED.tokens, dims = EXCLUDED.dims
"""

# Completion: the items first, then the jobs this worker still holds, then the vectors.
_LOCK_ITEMS = "SELECT 1 FROM memory_items WHERE id = ANY($1::uuid[]) ORDER BY id FOR KEY SHARE"
_DELETE_DONE = "DELETE FROM memory_index_jobs WHERE id = ANY($1::bigint[]) AND locked_by = $2 RETURNING id"

# The jobs this worker holds and nobody else has locked: never waits, so never closes a cycle.
_MINE = "SELECT id FROM memory_index_jobs WHERE id = ANY($1::bigint[]) AND locked_by = $2 FOR UPDATE SKIP LOCKED"

_FAIL = f"""
    WITH mine AS ({_MINE})
    UPDATE memory_index_jobs j
    SET locked_by = NULL, locked_until = NULL, last_error = f.error,
        run_after = now() + make_interval(secs => f.retry_in),
        dead_at = CASE WHEN f.dead THEN now() END
    FROM unnest($1::bigint[], $3::text[], $4::float8[], $5::bool[]) AS f(id, error, retry_in, dead), mine
    WHERE j.id = f.id AND mine.id = f.id
"""

_RENEW = f"""
    WITH mine AS ({_MINE})
    UPDATE memory_index_jobs j SET locked_until = now() + make_interval(secs => $3) FROM mine WHERE j.id = mine.id
"""

# Items first, in id order (a replace or forget of one waits, or is waited for and then skipped); a job
# already there is left alone unless it waits dead or backing off, and then revived unless it is locked
# (being deleted, or revived by another reindex).
_ENQUEUE = """
    WITH items AS (
        SELECT i.id, i.microdao_id FROM memory_items i
        WHERE $2 OR EXISTS (
            SELECT 1 FROM memory_chunks c WHERE c.item_id = i.id
            AND NOT EXISTS (SELECT 1 FROM memory_embeddings e WHERE e.chunk_id = c.id AND e.model = $1))
        ORDER BY i.id
        FOR KEY SHARE OF i
    ),
    revived AS (
        UPDATE memory_index_jobs j
        SET attempts = 0, dead_at = NULL, last_error = NULL, run_after = now(), created_at = now()
        FROM (SELECT w.id FROM memory_index_jobs w JOIN items ON items.id = w.item_id
              WHERE w.model = $1 AND (w.dead_at IS NOT NULL OR w.run_after > now())
              FOR UPDATE OF w SKIP LOCKED) waiting
        WHERE j.id = waiting.id
        RETURNING 1
    ),
    queued AS (
        INSERT INTO memory_index_jobs (item_id, model, microdao_id)
        SELECT id, $1, microdao_id FROM items ORDER BY id
        ON CONFLICT (item_id, model, microdao_id) DO NOTHING
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM revived) + (SELECT count(*) FROM queued)
"""

_STATS = """
    SELECT model,
           count(*) FILTER (WHERE dead_at IS NULL) AS pending,
           count(*) FILTER (WHERE dead_at IS NULL AND locked_until > now()) AS in_flight,
           count(*) FILTER (WHERE dead_at IS NOT NULL) AS dead,
           coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE dead_at IS NULL)), 0)::float8 AS age
    FROM memory_index_jobs WHERE ($1::text IS NULL OR microdao_id = $1) GROUP BY model ORDER BY model
"""


class PgIndexingQueue:
    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def claim(
        self, worker_id: str, model: str, max_jobs: int, lease_s: float, max_attempts: int,
    ) -> list[IndexJob]:
        claimed = await self._pool.fetch(_CLAIM, model, max_jobs, worker_id, float(lease_s))
        if not claimed:
            return []
        # A job claimed more than max_attempts times lost its lease every time (its worker died on it,
        # e.g. out of memory): dead-letter it rather than let it take down one worker after another.
        lost = [row for row in claimed if row["attempts"] > max_attempts]
        if lost:
            await self.fail(worker_id, [
                JobFailure(row["id"], f"lease expired {row['attempts'] - 1} times: the worker died on it", 0, True)
                for row in lost
            ])
        live = {str(row["item_id"]): row for row in claimed if row["attempts"] <= max_attempts}
        if not live:
            return []
        chunks: dict[str, list[ChunkText]] = {}
        items: dict[str, Any] = {}
        for row in await self._pool.fetch(_CHUNKS, list(live)):
            item_id = str(row["item_id"])
            items[item_id] = row
            if row["chunk_id"] is not None:
                chunks.setdefault(item_id, []).append(ChunkText(row["chunk_id"], row["text"]))
        return [  # an item forgotten since the claim took its job with it: nothing to do
            IndexJob(job["id"], item_id, job["attempts"], items[item_id]["tier"], items[item_id]["microdao_id"],
                     items[item_id]["agent_id"], chunks.get(item_id, []))
            for item_id, job in live.items() if item_id in items
        ]

    async def complete(
        self, worker_id: str, model: str, dims: int, done: Sequence[IndexedJob],
        before_commit: Callable[[list[IndexJob]], Awaitable[None]],
    ) -> list[IndexJob]:
        # A retry may call before_commit again: the ledger entries it records have ids of their own jobs'.
        return await retry_conflicts("completing indexing jobs",
                                     lambda: self._complete(worker_id, model, dims, done, before_commit))

    async def _complete(
        self, worker_id: str, model: str, dims: int, done: Sequence[IndexedJob],
        before_commit: Callable[[list[IndexJob]], Awaitable[None]],
    ) -> list[IndexJob]:
        async with self._pool.acquire() as connection, connection.transaction():
            # With the items locked, none of them is replaced or forgotten until these vectors commit; one
            # replaced or forgotten first has taken its job along, so its stale vectors are never written.
            await connection.execute(_LOCK_ITEMS, list({item.job.item_id for item in done}))
            rows = await connection.fetch(_DELETE_DONE, [item.job.job_id for item in done], worker_id)
            owned = {row["id"] for row in rows}
            kept = [item for item in done if item.job.job_id in owned]
            chunk_ids = [chunk.chunk_id for item in kept for chunk in item.job.chunks]
            vectors = [Vector(vector) for item in kept for vector in item.vectors]
            if chunk_ids:
                await connection.execute(_WRITE_VECTORS, chunk_ids, vectors, model, dims)
            for token_model, token_dims, ids, packed in _token_vectors(kept):
                await connection.execute(_WRITE_TOKEN_VECTORS, ids, packed, token_model, token_dims)
            jobs = [item.job for item in kept]
            if jobs:
                await before_commit(jobs)
            return jobs

    async def renew(self, worker_id: str, job_ids: Sequence[int], lease_s: float) -> None:
        await retry_conflicts("renewing a lease", lambda: self._pool.execute(
            _RENEW, list(job_ids), worker_id, float(lease_s)))

    async def fail(self, worker_id: str, failures: Sequence[JobFailure]) -> None:
        # An error's text may quote an upstream's answer; PostgreSQL's text cannot hold NUL.
        errors = [f.error.replace("\x00", "\ufffd") for f in failures]
        await retry_conflicts("recording failed indexing jobs", lambda: self._pool.execute(
            _FAIL, [f.job_id for f in failures], worker_id, errors, [float(f.retry_in_seconds) for f in failures],
            [f.dead for f in failures]))

    async def enqueue_all(self, model: str, force: bool) -> int:
        queued: int = await retry_conflicts("reindexing", lambda: self._pool.fetchval(_ENQUEUE, model, force))
        return queued

    async def stats(self, microdao_id: str | None = None) -> list[QueueStats]:
        """Per model; of one microDAO's jobs only when `microdao_id` is given (the operator console's view)."""
        return [
            QueueStats(row["model"], row["pending"], row["in_flight"], row["dead"], row["age"])
            for row in await self._pool.fetch(_STATS, microdao_id)
        ]


def _token_vectors(done: Sequence[IndexedJob]) -> list[tuple[str, int, list[int], list[bytes]]]:
    """The token vectors to write, one batch per (model, dims)."""
    batches: dict[tuple[str, int], tuple[list[int], list[bytes]]] = {}
    for item in done:
        for tokens in item.tokens:
            ids, packed = batches.setdefault((tokens.model, tokens.dims), ([], []))
            for chunk, data in zip(item.job.chunks, tokens.chunks, strict=True):
                if data:  # a text the model found nothing in has no row
                    ids.append(chunk.chunk_id)
                    packed.append(data)
    return [(model, dims, ids, packed) for (model, dims), (ids, packed) in batches.items()]
