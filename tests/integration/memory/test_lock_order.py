"""The memory tables' lock order under contention, on a database of its own (a reindex reads every item).

Writers replace and forget knowledge documents, store, correct and forget memories (one at a time and a
whole agent's at once) and reindex, while several indexing workers claim and complete the jobs those writes
enqueue. Every path locks an item's memory_items row before its jobs, chunks and vectors (the order
infra.memory.pg_sql states), so no two of them can deadlock. Before that order, a document replaced
while a worker completed its job deadlocked (issue 11): `put_document` deleted the chunks then the job,
`complete` deleted the job then wrote vectors that reference the chunks.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from domain.memory.chunking import ChunkingPolicy
from domain.memory.commands import PostDocument, StoreMemory, to_document, to_memory
from domain.memory.indexing import IndexingWorker
from domain.memory.model import MemoryContent, MemoryLimits, NewMemory, Scope
from domain.memory.queue import IndexingPolicy
from domain.memory.revisions import Revision
from infra.memory.pg_indexing_queue import PgIndexingQueue
from infra.memory.pg_memory_store import PgMemoryStore
from infra.memory.pg_pool import open_memory_pool
from infra.memory.pg_revisions import PgRevisionStore
from tests.contracts.support import drop_database
from tests.fakes.ledger import FakeRecorder, SetLookup
from tests.fakes.memory import FakeEmbedder
from tests.support import fresh_database

SECONDS = 4.0
DOCUMENTS, WRITERS, FORGETTERS, CORRECTORS, WORKERS = 4, 6, 2, 2, 4
WORDS = ["boiler", "invoice", "ladder", "harvest", "quarter", "river", "contract", "pallet", "meadow", "ledger",
         "lantern", "quota", "harbour", "kettle", "orchard", "tariff", "glacier", "ferry", "anvil", "cobalt"]
POLICY = IndexingPolicy(batch_items=3, lease_seconds=30, max_attempts=3)


def random_text(rng: random.Random, paragraphs: int) -> str:
    return "\n\n".join(" ".join(rng.choices(WORDS, k=rng.randint(60, 140))) + "." for _ in range(paragraphs))


class Stress:
    """The writers and workers of one run, and what they did: operations by name, errors as raised."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.store = PgMemoryStore(pool, 64)
        self.revisions = PgRevisionStore(pool)
        self.queue = PgIndexingQueue(pool)
        self.embedder = FakeEmbedder("test/lock-order", 64)
        self.scope = Scope("microdao:locks", "agent:writer")
        self.chunks_of: dict[str, list[str]] = {}  # content hash -> chunks, of every version written
        self.ops: Counter[str] = Counter()
        self.errors: list[BaseException] = []
        self.deadline = 0.0

    def worker(self, name: str) -> IndexingWorker:
        return IndexingWorker(self.queue, self.embedder, FakeRecorder(), SetLookup(), POLICY, name)

    async def _until_deadline(self, name: str, step: Callable[[], Awaitable[object]]) -> None:
        while time.monotonic() < self.deadline:
            try:
                await step()
                self.ops[name] += 1
            except Exception as exc:  # noqa: BLE001 - counted and asserted on: none may escape
                self.errors.append(exc)
            await asyncio.sleep(0)

    async def replace_documents(self, rng: random.Random) -> None:
        async def step() -> None:
            command = PostDocument(title="Runbook", text=random_text(rng, rng.randint(6, 14)),
                                   source_uri=f"https://kb.test/doc-{rng.randrange(DOCUMENTS)}")
            document = to_document(command, self.scope, MemoryLimits(), ChunkingPolicy(max_chars=400))
            self.chunks_of[document.content_hash] = document.chunks
            result = await self.store.put_document(document, self.embedder.model)
            if rng.random() < 0.08:
                await self.store.forget(self.scope, result.id, "long")
        await self._until_deadline("document", step)

    async def forget_memories(self, rng: random.Random, n: int) -> None:
        async def step() -> None:
            scope = Scope(self.scope.microdao_id, f"agent:forgetful-{n}-{rng.randrange(3)}")
            ids = []
            for _ in range(3):
                command = StoreMemory(MemoryContent(text=random_text(rng, 2)), kind="fact")
                memory = to_memory(command, scope, MemoryLimits(), ChunkingPolicy(max_chars=400))
                self.chunks_of[memory.content_hash] = memory.chunks
                ids.append((await self.store.add_memory(memory, self.embedder.model)).id)
            await self.store.forget(scope, ids[0], "mid")
            if rng.random() < 0.5:
                await self.store.forget_agent(scope)
        await self._until_deadline("memories", step)

    async def correct_memories(self, rng: random.Random, n: int) -> None:
        async def step() -> None:
            scope = Scope(self.scope.microdao_id, f"agent:corrector-{n}")
            memory_id = (await self.store.add_memory(self._memory(rng, scope), self.embedder.model)).id
            for version in (1, 2):
                await asyncio.sleep(rng.uniform(0, 0.01))  # a worker may be embedding the version by now
                revision = Revision(memory_id, version, self._memory(rng, scope))
                assert await self.revisions.revise(revision, self.embedder.model) is not None
            if rng.random() < 0.3:
                await self.store.forget(scope, memory_id, "mid")
        await self._until_deadline("corrections", step)

    def _memory(self, rng: random.Random, scope: Scope) -> NewMemory:
        command = StoreMemory(MemoryContent(text=random_text(rng, 3)), kind="fact")
        memory = to_memory(command, scope, MemoryLimits(), ChunkingPolicy(max_chars=400))
        self.chunks_of[memory.content_hash] = memory.chunks
        return memory

    async def reindex(self) -> None:
        async def step() -> None:
            await self.queue.enqueue_all(self.embedder.model, force=False)
            await asyncio.sleep(0.05)
        await self._until_deadline("reindex", step)

    async def index(self, worker: IndexingWorker) -> None:
        async def step() -> None:
            report = await worker.run_once()
            self.ops["indexed"] += report.indexed
            if not report.claimed:
                await asyncio.sleep(0.002)
        await self._until_deadline("batch", step)

    async def run(self, seconds: float, seed: int) -> None:
        rng = random.Random(seed)
        self.deadline = time.monotonic() + seconds
        await asyncio.gather(
            *(self.replace_documents(random.Random(rng.random())) for _ in range(WRITERS)),
            *(self.forget_memories(random.Random(rng.random()), n) for n in range(FORGETTERS)),
            *(self.correct_memories(random.Random(rng.random()), n) for n in range(CORRECTORS)),
            self.reindex(), *(self.index(self.worker(f"worker-{n}")) for n in range(WORKERS)),
        )


@pytest.fixture(name="stress")
async def stress_fixture(database_url: str) -> AsyncIterator[Stress]:
    url = fresh_database(database_url, "memory_locks")
    pool = await open_memory_pool(url, size=WRITERS + FORGETTERS + CORRECTORS + 2 * WORKERS + 2)
    try:
        yield Stress(pool)
    finally:
        await pool.close()
        drop_database(url)


async def test_documents_replaced_and_memories_corrected_or_forgotten_while_workers_complete_never_deadlock(
    stress: Stress, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="infra.memory.pg_sql")
    await stress.run(SECONDS, seed=11)
    escaped = [type(error).__name__ for error in stress.errors]
    assert escaped == [], f"{Counter(escaped)} escaped in {sum(stress.ops.values())} operations ({stress.ops})"
    assert stress.ops["document"] >= 40 and stress.ops["indexed"] >= 40, f"too little contention: {stress.ops}"
    assert stress.ops["corrections"] >= 10, f"too few corrections: {stress.ops}"
    retried = [record.getMessage() for record in caplog.records if record.name == "infra.memory.pg_sql"]
    assert retried == [], "every path takes its locks in the same order: none was even retried"

    await stress.worker("drainer").drain()
    pool = stress.pool
    assert await pool.fetchval("SELECT count(*) FROM memory_index_jobs") == 0, "the queue drained, nothing dead"
    items = await pool.fetch("SELECT id, content_hash FROM memory_items")
    assert items, "some documents and memories are left to check"
    for item in items:
        texts = await pool.fetch("SELECT text FROM memory_chunks WHERE item_id = $1 ORDER BY seq", item["id"])
        assert [row["text"] for row in texts] == stress.chunks_of[item["content_hash"]], \
            "an item holds exactly the chunks of its latest version, none of a replaced one"
    vectors = await pool.fetch(
        "SELECT c.text, e.embedding FROM memory_chunks c LEFT JOIN memory_embeddings e ON e.chunk_id = c.id")
    assert all(row["embedding"] is not None for row in vectors), "every live chunk is indexed"
    for row in vectors:
        expected = stress.embedder.vector(row["text"])
        assert max(abs(a - b) for a, b in zip(row["embedding"].to_list(), expected, strict=True)) < 1e-6, \
            "no vector of a replaced chunk was written over a new one"
    assert await pool.fetchval("SELECT count(*) FROM memory_embeddings") == len(vectors), "no orphan vectors"
