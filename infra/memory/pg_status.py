"""What `daarion memory status` shows: items per tier, vectors per model, the queue and its dead letters."""

from __future__ import annotations

from typing import Any

import msgspec

from domain.memory.queue import QueueStats
from infra.memory.pg_indexing_queue import PgIndexingQueue


class DeadLetter(msgspec.Struct, frozen=True):
    job_id: int
    item_id: str
    model: str
    attempts: int
    error: str | None


class MemoryStatus(msgspec.Struct, frozen=True):
    items: dict[str, int]
    chunks: int
    vectors: dict[str, int]
    queue: list[QueueStats]
    dead_letters: list[DeadLetter]


async def memory_status(pool: Any, dead_letter_limit: int = 20) -> MemoryStatus:
    items = {row["tier"]: row["n"] for row in await pool.fetch(
        "SELECT tier, count(*) AS n FROM memory_items GROUP BY tier ORDER BY tier")}
    chunks = await pool.fetchval("SELECT count(*) FROM memory_chunks")
    vectors = {row["model"]: row["n"] for row in await pool.fetch(
        "SELECT model, count(*) AS n FROM memory_embeddings GROUP BY model ORDER BY model")}
    dead = [
        DeadLetter(row["id"], str(row["item_id"]), row["model"], row["attempts"], row["last_error"])
        for row in await pool.fetch(
            "SELECT id, item_id, model, attempts, last_error FROM memory_index_jobs WHERE dead_at IS NOT NULL "
            "ORDER BY dead_at DESC LIMIT $1", dead_letter_limit)
    ]
    return MemoryStatus(items, chunks, vectors, await PgIndexingQueue(pool).stats(), dead)
