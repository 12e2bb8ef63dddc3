"""MemoryHealthReadings over memory_items and memory_index_jobs, as the tables' owner with an explicit
microDAO filter (a scoped operator sees every agent's items of its microDAO, which row security would hide)."""

from __future__ import annotations

from typing import Any

from domain.memory.health import DeadJob, MemoryHealth, TierCount
from infra.memory.pg_indexing_queue import PgIndexingQueue

_ITEMS = """
SELECT microdao_id, tier, count(*) AS n FROM memory_items WHERE ($1::text IS NULL OR microdao_id = $1)
GROUP BY 1, 2 ORDER BY 1, 2
"""

_DEAD = """
SELECT id, microdao_id, item_id, model, attempts, last_error, dead_at FROM memory_index_jobs
WHERE dead_at IS NOT NULL AND ($1::text IS NULL OR microdao_id = $1) ORDER BY dead_at DESC LIMIT $2
"""

# As `daarion memory reindex` revives dead jobs (pg_indexing_queue._ENQUEUE): due now, attempts from zero.
_RETRY = """
UPDATE memory_index_jobs SET dead_at = NULL, attempts = 0, last_error = NULL, run_after = now(),
       created_at = now(), locked_by = NULL, locked_until = NULL
WHERE id = $1 AND dead_at IS NOT NULL AND ($2::text IS NULL OR microdao_id = $2) RETURNING id
"""


class PgMemoryHealth:
    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def health(self, microdao_id: str | None, dead_limit: int = 50) -> MemoryHealth:
        items = [TierCount(r["microdao_id"], r["tier"], r["n"]) for r in await self._pool.fetch(_ITEMS, microdao_id)]
        queue = await PgIndexingQueue(self._pool).stats(microdao_id)
        dead = [DeadJob(r["id"], r["microdao_id"], str(r["item_id"]), r["model"], r["attempts"], r["last_error"],
                        r["dead_at"]) for r in await self._pool.fetch(_DEAD, microdao_id, dead_limit)]
        return MemoryHealth(items, queue, dead)

    async def retry_dead(self, job_id: int, microdao_id: str | None) -> bool:
        return await self._pool.fetchval(_RETRY, job_id, microdao_id) is not None
