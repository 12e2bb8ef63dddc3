"""The rows the memory fakes share, as PostgreSQL keeps them for PgMemoryStore and PgIndexingQueue:
items with their chunks, vectors per (chunk, model), and indexing jobs per (item, model). The store and
the queue fakes are two views of one MemoryTables, so each sees the other's writes, as the real ones do."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.kernel.clock import Clock
from domain.memory.model import MemoryContent, Metadata
from domain.memory.queue import ChunkText
from tests.fakes.clock import FakeClock


@dataclass
class Item:
    id: str
    tier: str
    kind: str
    microdao_id: str
    agent_id: str
    text: str
    content_hash: str
    metadata: Metadata
    occurred_at: datetime
    created_at: datetime
    chunks: list[ChunkText] = field(default_factory=list)
    content: MemoryContent | None = None
    channel_id: str | None = None
    user_id: str | None = None
    idempotency_key: str | None = None
    title: str | None = None
    source_uri: str | None = None
    doc_key: str | None = None
    updated_at: datetime | None = None


@dataclass
class Job:
    item_id: str
    model: str
    run_after: datetime
    created_at: datetime
    attempts: int = 0
    locked_by: str | None = None
    locked_until: datetime | None = None
    dead: bool = False
    last_error: str | None = None


class MemoryTables:
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.items: dict[str, Item] = {}
        self.vectors: dict[tuple[int, str], list[float]] = {}
        self.jobs: dict[int, Job] = {}
        self._chunk_ids = itertools.count(1)
        self._job_ids = itertools.count(1)

    def now(self) -> datetime:
        return self.clock.now()

    def insert(self, item: Item, texts: list[str], model: str) -> int:
        """The item, its chunks and its job for `model`, together (one statement in PostgreSQL)."""
        self.items[item.id] = item
        return self.rechunk(item, texts, model)

    def rechunk(self, item: Item, texts: list[str], model: str) -> int:
        """New chunks replace the old ones; their vectors and jobs go with them (ON DELETE CASCADE)."""
        self._drop_chunks(item)
        item.chunks = [ChunkText(next(self._chunk_ids), text) for text in texts]
        return self.enqueue(item.id, model)

    def enqueue(self, item_id: str, model: str) -> int:
        job_id = next(self._job_ids)
        self.jobs[job_id] = Job(item_id, model, run_after=self.now(), created_at=self.now())
        return job_id

    def delete(self, item_id: str) -> Item | None:
        item = self.items.pop(item_id, None)
        if item is not None:
            self._drop_chunks(item)
        return item

    def _drop_chunks(self, item: Item) -> None:
        old = {chunk.chunk_id for chunk in item.chunks}
        for key in [key for key in self.vectors if key[0] in old]:
            del self.vectors[key]
        for job_id in [job_id for job_id, job in self.jobs.items() if job.item_id == item.id]:
            del self.jobs[job_id]

    def indexed_chunks(self, item: Item, model: str) -> int:
        return sum((chunk.chunk_id, model) in self.vectors for chunk in item.chunks)

    def later(self, seconds: float) -> datetime:
        return self.now() + timedelta(seconds=seconds)
