"""What the database holds after the fact: the ledger's LLM calls of an agent, stored memories and their indexing."""

from __future__ import annotations

import asyncio
from collections import Counter

import asyncpg

from infra.platform.db import asyncpg_dsn


def completed_calls(database_url: str, agent: str) -> Counter[str]:
    """How many LlmCallCompleted events the ledger holds per request id of `agent`."""
    from domain.ledger.events import LlmCallCompleted
    from infra.ledger.event_store import open_ledger

    ledger = open_ledger(database_url)
    found: Counter[str] = Counter()
    try:
        position = 1
        while batch := ledger.recorder.select_notifications(start=position, limit=1000):
            for notification in batch:
                event = ledger.mapper.to_domain_event(notification)
                if isinstance(event, LlmCallCompleted) and event.agent_id == agent:
                    found[event.request_id] += 1
            position = batch[-1].id + 1
    finally:
        ledger.close()
    return found


# A memory's chunks and those embedded by `model`, as its record counts them (infra/memory/pg_memory_store.py),
# read as the tables' owner: one query rather than a GET per memory.
_INDEXED = """
    SELECT count(*) AS present, count(*) FILTER (WHERE chunks > 0 AND embedded = chunks) AS indexed
    FROM (SELECT (SELECT count(*) FROM memory_chunks c WHERE c.item_id = i.id) AS chunks,
                 (SELECT count(*) FROM memory_chunks c JOIN memory_embeddings e ON e.chunk_id = c.id AND e.model = $2
                  WHERE c.item_id = i.id) AS embedded
          FROM memory_items i WHERE i.id = ANY($1::uuid[])) AS items
"""


def memories_indexed(database_url: str, memory_ids: list[str], model: str) -> tuple[int, int]:
    """How many of the memories are in the database, and how many of those are wholly indexed."""
    async def count() -> tuple[int, int]:
        connection = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            row = await connection.fetchrow(_INDEXED, memory_ids, model)
        finally:
            await connection.close()
        return row["present"], row["indexed"]

    return asyncio.run(count())
