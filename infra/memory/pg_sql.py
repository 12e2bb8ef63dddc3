"""SQL shared by the memory writes: named placeholders, chunks + job in one statement, and the lock order.

Lock order. Every transaction that writes an item's rows locks them in this order, so no two can wait on
each other in a cycle (issue 11 saw a document replaced while a worker completed its job deadlock):

    1. memory_items rows, in id order when several (SELECT ... ORDER BY id FOR ...; a DELETE of one
       item locks it before its cascades run). Replacing or forgetting an item takes FOR UPDATE; adding
       to it (a worker's vectors, a reindex's job) takes FOR KEY SHARE, which only those two exclude.
    2. its memory_index_jobs rows, 3. its memory_chunks rows, 4. their memory_embeddings rows,
    5. its memory_versions rows (a correction keeps the version it replaces; nothing else writes them).

A worker's claim, renew and fail lock jobs without their items, and a reindex revives dead jobs: all with
SKIP LOCKED, so they never wait and close no cycle either. A new item's rows are invisible to everyone
else until it commits. Whatever might still collide (a maintenance statement that keeps no order) the
server aborts, and `retry_conflicts` runs the transaction again.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import asyncpg

from domain.kernel.errors import ServiceUnavailable

T = TypeVar("T")
log = logging.getLogger(__name__)

CONFLICT_ATTEMPTS = 5
_CONFLICTS = (asyncpg.exceptions.DeadlockDetectedError, asyncpg.exceptions.SerializationError)

# Appended to a `WITH item AS (INSERT/UPDATE ... RETURNING id)`: the chunks and the indexing job are
# written by the same statement, so an item is never durable without them.
CHUNKS_AND_JOB = """
    chunks AS (
        INSERT INTO memory_chunks (item_id, seq, tier, kind, microdao_id, agent_id, occurred_at, metadata, text)
        SELECT item.id, piece.seq - 1, {tier}, {kind}, $microdao, $agent, $occurred, $metadata::jsonb, piece.text
        FROM item, unnest($chunks::text[]) WITH ORDINALITY AS piece(text, seq)
        RETURNING 1
    ),
    job AS (INSERT INTO memory_index_jobs (item_id, model, microdao_id) SELECT id, $model, $microdao FROM item
            RETURNING 1)
    SELECT id FROM item
"""


def named(sql: str, names: Sequence[str]) -> str:
    """`$name` placeholders to asyncpg's `$n`; longest names first so `$key` never eats `$keyword`."""
    for name in sorted(names, key=len, reverse=True):
        sql = sql.replace(f"${name}", f"${names.index(name) + 1}")
    return sql


async def retry_conflicts(what: str, transaction: Callable[[], Awaitable[T]]) -> T:
    """Runs `transaction` (a whole one: the server rolled back the failed try) again when the server
    aborted it as a deadlock victim or a serialization failure; after CONFLICT_ATTEMPTS tries, a 503."""
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            return await transaction()
        except _CONFLICTS as exc:
            if attempt == CONFLICT_ATTEMPTS:
                raise ServiceUnavailable(f"{what} kept colliding with concurrent writes; retry shortly") from exc
            log.warning("%s: %s on try %d of %d; trying again", what, type(exc).__name__, attempt, CONFLICT_ATTEMPTS)
            await asyncio.sleep(random.uniform(0.0, 0.01 * 2**attempt))  # jittered: not in step with the rival again
    raise AssertionError("unreachable")
