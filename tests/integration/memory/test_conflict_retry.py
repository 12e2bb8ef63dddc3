"""What the memory adapters do when PostgreSQL aborts a transaction for a lock conflict: run it again, a
bounded number of times, then answer 503 (infra.memory.pg_sql.retry_conflicts). And what the indexing
queue keeps of an error whose text PostgreSQL cannot store."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from domain.kernel.errors import ServiceUnavailable, UpstreamFailed
from domain.memory.chunking import ChunkingPolicy
from domain.memory.commands import StoreMemory, to_memory
from domain.memory.indexing import IndexingWorker
from domain.memory.model import MemoryContent, MemoryLimits, Scope
from domain.memory.queue import IndexingPolicy
from infra.memory.pg_indexing_queue import PgIndexingQueue
from infra.memory.pg_memory_store import PgMemoryStore
from infra.memory.pg_pool import open_memory_pool
from infra.memory.pg_sql import CONFLICT_ATTEMPTS, retry_conflicts
from tests.fakes.ledger import FakeRecorder, SetLookup
from tests.fakes.memory import FakeEmbedder


@pytest.fixture(name="pool")
async def pool_fixture(database_url: str) -> AsyncIterator[Any]:
    pool = await open_memory_pool(database_url, size=3)
    yield pool
    await pool.close()


async def test_the_victim_of_a_real_deadlock_is_run_again_and_both_transactions_commit(
    pool: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    table = f"crossing_{uuid.uuid4().hex[:8]}"
    await pool.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, n int NOT NULL); "
                       f"INSERT INTO {table} VALUES (1, 0), (2, 0)")
    caplog.set_level(logging.WARNING, logger="infra.memory.pg_sql")
    both_hold_one = asyncio.Barrier(2)
    tries: Counter[str] = Counter()

    async def crossing(name: str, first: int, second: int) -> None:
        async def once() -> None:
            tries[name] += 1
            async with pool.acquire() as connection, connection.transaction():
                await connection.execute(f"UPDATE {table} SET n = n + 1 WHERE id = $1", first)
                if tries[name] == 1:
                    await both_hold_one.wait()  # each holds one row and wants the other's: a cycle
                await connection.execute(f"UPDATE {table} SET n = n + 1 WHERE id = $1", second)

        await retry_conflicts("crossing", once)

    try:
        await asyncio.gather(crossing("a", 1, 2), crossing("b", 2, 1))
        assert sorted(tries.values()) == [1, 2], "the server aborted one of them; it ran again"
        assert [row["n"] for row in await pool.fetch(f"SELECT n FROM {table} ORDER BY id")] == [2, 2]
        assert [r.getMessage() for r in caplog.records if r.name == "infra.memory.pg_sql"] == [
            f"crossing: DeadlockDetectedError on try 1 of {CONFLICT_ATTEMPTS}; trying again"]
    finally:
        await pool.execute(f"DROP TABLE {table}")


async def test_a_transaction_that_keeps_losing_is_a_503_after_a_bounded_number_of_tries() -> None:
    tries = 0

    async def always_the_victim() -> None:
        nonlocal tries
        tries += 1
        raise asyncpg.exceptions.SerializationError("could not serialize access due to concurrent update")

    with pytest.raises(ServiceUnavailable, match="kept colliding with concurrent writes"):
        await retry_conflicts("storing a document", always_the_victim)
    assert tries == CONFLICT_ATTEMPTS


async def test_an_embedder_error_quoting_a_nul_character_is_kept_as_the_jobs_error(pool: Any) -> None:
    scope = Scope(f"microdao:nul-{uuid.uuid4().hex[:8]}", "agent:a")
    embedder = FakeEmbedder(f"test/nul-{uuid.uuid4().hex[:8]}", 64)
    command = StoreMemory(MemoryContent(text="the boiler service is booked"), kind="fact")
    stored = await PgMemoryStore(pool, 64).add_memory(
        to_memory(command, scope, MemoryLimits(), ChunkingPolicy()), embedder.model)

    class QuotesNul(FakeEmbedder):
        async def embed(self, texts: Any) -> list[list[float]]:
            raise UpstreamFailed("the embeddings server answered 500: bad\x00byte")

    worker = IndexingWorker(PgIndexingQueue(pool), QuotesNul(embedder.model, 64), FakeRecorder(), SetLookup(),
                            IndexingPolicy(), "nul-worker")
    report = await worker.run_once()
    assert (report.claimed, report.failed) == (1, 1)
    error = await pool.fetchval("SELECT last_error FROM memory_index_jobs WHERE item_id = $1", stored.id)
    assert error == "the embeddings server answered 500: bad\ufffdbyte"
    await pool.execute("DELETE FROM memory_items WHERE id = $1", stored.id)
