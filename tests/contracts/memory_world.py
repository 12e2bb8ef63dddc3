"""A memory store and an indexing queue that share their rows, fake or PostgreSQL, for the memory suites.

Each world has a microDAO, an agent and an indexing model of its own: the PostgreSQL tables are shared
with every other test of the session, and claims see only jobs of their model.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from domain.memory.chunking import ChunkingPolicy
from domain.memory.commands import (
    PostDocument,
    QueryMemory,
    Search,
    StoreMemory,
    to_document,
    to_memory,
    to_search,
)
from domain.memory.model import MemoryLimits, NewDocument, NewMemory, Scope
from domain.memory.ports import IndexingQueue, MemoryStore
from domain.memory.queue import IndexedJob, IndexJob, QueueStats
from infra.memory.pg_indexing_queue import PgIndexingQueue
from infra.memory.pg_memory_store import PgMemoryStore
from infra.memory.pg_pool import open_memory_pool
from tests.contracts.support import BOTH, drop_database, unique
from tests.fakes.clock import FakeClock
from tests.fakes.indexing_queue import InMemoryQueue
from tests.fakes.memory_store import InMemoryMemoryStore
from tests.fakes.memory_tables import MemoryTables
from tests.support import fresh_database

DIMS = 4  # small vectors: no HNSW index covers them, so the vector leg scans exactly
MOMENT = 0.01  # seconds: long enough for PostgreSQL's now() to move past a 0-second lease


def unit(axis: int) -> list[float]:
    return [1.0 if i == axis else 0.0 for i in range(DIMS)]


class Commits:
    """A before_commit hook that remembers the jobs it saw."""

    def __init__(self) -> None:
        self.seen: list[list[int]] = []

    async def __call__(self, jobs: list[IndexJob]) -> None:
        self.seen.append([job.job_id for job in jobs])


def done(job: IndexJob, vector: list[float] | None = None) -> IndexedJob:
    return IndexedJob(job, [vector or unit(0)] * len(job.chunks))


@dataclass
class MemoryWorld:
    store: MemoryStore
    queue: IndexingQueue
    wait: Callable[[float], Awaitable[None]]  # lets time pass: the fake's clock, PostgreSQL's now()
    model: str
    microdao: str
    agent: str

    @property
    def scope(self) -> Scope:
        """The world's own agent in its own microDAO."""
        return Scope(self.microdao, self.agent)

    def memory(self, text: str = "", agent: str | None = None, microdao: str | None = None, **fields: Any) -> NewMemory:
        """A fact by default; `user_message`/`agent_reply` make it a conversation turn."""
        content: dict[str, Any] = {name: fields.pop(name) for name in ("user_message", "agent_reply") if name in fields}
        command = msgspec.convert({"kind": "conversation" if content else "fact", "content": {"text": text, **content},
                                   **fields}, StoreMemory)
        return to_memory(command, Scope(microdao or self.microdao, agent or self.agent), MemoryLimits(),
                         ChunkingPolicy())

    async def add(self, text: str = "", **fields: Any) -> str:
        return (await self.store.add_memory(self.memory(text, **fields), self.model)).id

    def document(self, title: str, text: str, uri: str | None = None, microdao: str | None = None,
                 agent: str | None = None) -> NewDocument:
        command = PostDocument(title, text=text, source_uri=uri)
        return to_document(command, Scope(microdao or self.microdao, agent or self.agent), MemoryLimits(),
                           ChunkingPolicy())

    async def claim(self, worker: str, lease_s: float = 60, max_attempts: int = 5,
                    max_jobs: int = 10) -> list[IndexJob]:
        return await self.queue.claim(worker, self.model, max_jobs, lease_s, max_attempts)

    async def index(self, vectors: dict[str, list[float]]) -> None:
        """Claims every job of the world's model and completes those of `vectors`' items, one vector per chunk."""
        jobs = await self.claim("indexer")
        indexed = [done(job, vectors[job.item_id]) for job in jobs if job.item_id in vectors]
        await self.queue.complete("indexer", self.model, DIMS, indexed, Commits())

    async def stats(self) -> QueueStats | None:
        """The queue's figures for this world's model (None: no job of it left)."""
        return next((s for s in await self.queue.stats() if s.model == self.model), None)

    def search(self, query: str, agent: str | None = None, **fields: Any) -> Search:
        command = msgspec.convert({"query": query, **fields}, QueryMemory)
        return to_search(command, Scope(self.microdao, agent or self.agent), MemoryLimits())


def world_names() -> tuple[str, str, str]:
    return unique("contract/model"), unique("microdao:contract"), unique("agent:contract")


def fake_world() -> MemoryWorld:
    clock = FakeClock(datetime.now(UTC))
    tables = MemoryTables(clock)

    async def advance(seconds: float) -> None:
        clock.advance(seconds)

    return MemoryWorld(InMemoryMemoryStore(tables=tables), InMemoryQueue(tables), advance, *world_names())


@pytest.fixture(params=BOTH, name="world")
def world_fixture(request: pytest.FixtureRequest) -> MemoryWorld:
    if request.param == "fake":
        return fake_world()
    # A sync fixture may ask for the pool (an async fixture) here: only postgres cases open it.
    pool = request.getfixturevalue("memory_pool")
    return MemoryWorld(PgMemoryStore(pool, DIMS), PgIndexingQueue(pool), asyncio.sleep, *world_names())


@pytest.fixture(params=BOTH, name="lone_world")
async def lone_world_fixture(request: pytest.FixtureRequest) -> AsyncIterator[MemoryWorld]:
    """A world alone in its tables: enqueue_all reads every item there is, so postgres gets a database of its own."""
    if request.param == "fake":
        yield fake_world()
        return
    url = fresh_database(request.getfixturevalue("database_url"), "contract")
    pool = await open_memory_pool(url, size=2)
    try:
        yield MemoryWorld(PgMemoryStore(pool, DIMS), PgIndexingQueue(pool), asyncio.sleep, *world_names())
    finally:
        await pool.close()
        drop_database(url)
