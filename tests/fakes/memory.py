"""Fakes of the memory ports: an embedder, an in-memory store and queue, a ledger recorder and lookup."""

from __future__ import annotations

import math
import re
import uuid
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from domain.kernel.errors import Conflict, UpstreamFailed
from domain.ledger.events import LedgerEntry
from domain.memory.commands import Search
from domain.memory.model import (
    DocumentResult,
    Forgotten,
    MemoryRecord,
    NewDocument,
    NewMemory,
    Scope,
    ShortTermTurn,
    StoreResult,
    visible,
)
from domain.memory.queue import ChunkText, IndexedJob, IndexJob, JobFailure, QueueStats
from domain.memory.ranking import Candidate

T = TypeVar("T")


class FakeEmbedder:
    """Bag-of-words vectors (hashed into `dimensions` buckets): texts sharing words are close."""

    def __init__(self, model: str = "fake-bow", dimensions: int = 64, fail_on: str | None = None) -> None:
        self._model = model
        self._dimensions = dimensions
        self.fail_on = fail_on
        self.calls: list[list[str]] = []

    @property
    def model(self) -> str:
        return self._model

    @property
    def dimensions(self) -> int:
        return self._dimensions

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        if self.fail_on is not None and any(self.fail_on in text for text in texts):
            raise UpstreamFailed(f"the fake embedder refuses '{self.fail_on}'")
        return [self.vector(text) for text in texts]

    def vector(self, text: str) -> list[float]:
        vector = [0.0] * self._dimensions
        for word in re.findall(r"\w+", text.lower()):
            vector[zlib.crc32(word.encode()) % self._dimensions] += 1.0
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        return [x / norm for x in vector]

    async def aclose(self) -> None:
        return None


class RecordingRecorder:
    """The UsageRecorder twin: keeps every recorded event."""

    def __init__(self) -> None:
        self.recorded: list[Any] = []

    async def record(self, entry: LedgerEntry) -> int:
        self.recorded.extend(entry.collect_events())
        return len(self.recorded)

    def events(self, kind: type[T]) -> list[T]:
        return [event for event in self.recorded if isinstance(event, kind)]


class SetLookup:
    def __init__(self, recorded: set[uuid.UUID] | None = None) -> None:
        self.ids = recorded if recorded is not None else set()

    async def recorded(self, entry_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        return {entry_id for entry_id in entry_ids if entry_id in self.ids}


class FixedClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.at = now or datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return 0.0


class InMemoryMemoryStore:
    """The MemoryStore twin: same scoping (domain.memory.model.visible); text leg = shared words; vector leg =
    dot products with `vectorize(text)` (none without it)."""

    def __init__(self, vectorize: Callable[[str], list[float]] | None = None) -> None:
        self.memories: dict[str, NewMemory] = {}
        self.enqueued: list[tuple[str, str]] = []
        self._vectorize = vectorize

    async def add_memory(self, memory: NewMemory, index_model: str) -> StoreResult:
        for existing in self.memories.values():
            if existing.scope != memory.scope:
                continue
            same_key = memory.idempotency_key is not None and existing.idempotency_key == memory.idempotency_key
            if same_key and existing.content_hash != memory.content_hash:
                raise Conflict("idempotency key reused for other content")
            if same_key or existing.content_hash == memory.content_hash:
                return StoreResult(existing.id, False, len(existing.chunks))
        self.memories[memory.id] = memory
        self.enqueued.append((memory.id, index_model))
        return StoreResult(memory.id, True, len(memory.chunks))

    async def put_document(self, document: NewDocument, index_model: str) -> DocumentResult:
        raise NotImplementedError("documents are exercised against PostgreSQL")

    async def get(self, item_id: str, model: str) -> MemoryRecord | None:
        memory = self.memories.get(item_id)
        if memory is None:
            return None
        return MemoryRecord(memory.id, "mid", memory.kind, memory.scope.microdao_id, memory.scope.agent_id,
                            memory.text, memory.metadata, memory.occurred_at, memory.occurred_at,
                            memory.occurred_at, len(memory.chunks), 0, memory.content, memory.channel_id)

    async def forget(self, item_id: str, tier: str) -> Forgotten | None:
        memory = self.memories.pop(item_id, None) if tier == "mid" else None
        return None if memory is None else Forgotten(memory.id, "mid", memory.scope.microdao_id, memory.scope.agent_id)

    async def forget_agent(self, agent_id: str, microdao_id: str | None) -> list[Forgotten]:
        doomed = [m for m in self.memories.values()
                  if m.scope.agent_id == agent_id and microdao_id in (None, m.scope.microdao_id)]
        return [f for m in doomed if (f := await self.forget(m.id, "mid")) is not None]

    async def recent_turns(self, scope: Scope, channel_id: str, limit: int) -> list[ShortTermTurn]:
        turns = sorted((m for m in self.memories.values()
                        if m.scope == scope and m.channel_id == channel_id and m.kind == "conversation"),
                       key=lambda m: m.occurred_at)[-limit:]
        return [ShortTermTurn(m.id, m.occurred_at, m.content.user_message, m.content.agent_reply, m.content.text)
                for m in turns]

    async def vector_search(
        self, search: Search, vector: Sequence[float], model: str, per_leg: int,
    ) -> list[Candidate]:
        vectorize = self._vectorize
        if vectorize is None:
            return []
        ranked = sorted(self._visible(search), key=lambda m: -sum(
            a * b for a, b in zip(vector, vectorize(m.text), strict=True)))
        return [self._candidate(m, vector_rank=rank) for rank, m in enumerate(ranked[:per_leg], start=1)]

    async def text_search(self, search: Search, per_leg: int) -> list[Candidate]:
        terms = set(search.terms)
        scored = [(len(terms & set(re.findall(r"\w+", m.text.lower()))), m) for m in self._visible(search)]
        ranked = [m for shared, m in sorted(scored, key=lambda pair: -pair[0]) if shared]
        return [self._candidate(m, text_rank=rank) for rank, m in enumerate(ranked[:per_leg], start=1)]

    def _visible(self, search: Search) -> list[NewMemory]:
        return [m for m in self.memories.values()
                if "mid" in search.tiers and visible("mid", m.scope.microdao_id, m.scope.agent_id, search.scope)]

    @staticmethod
    def _candidate(m: NewMemory, vector_rank: int | None = None, text_rank: int | None = None) -> Candidate:
        return Candidate(zlib.crc32(m.id.encode()), m.id, 0, "mid", m.kind, m.text, m.occurred_at, m.occurred_at,
                         m.metadata, vector_rank, text_rank, channel_id=m.channel_id)


@dataclass
class FakeJob:
    item_id: str
    chunks: list[ChunkText]
    tier: str = "mid"
    attempts: int = 0
    owner: str | None = None
    dead: bool = False
    waiting: bool = False  # in backoff


class InMemoryQueue:
    """The IndexingQueue twin: leases by worker id, attempts counted at claim, ownership checked at completion."""

    def __init__(self) -> None:
        self.jobs: dict[int, FakeJob] = {}
        self.vectors: dict[int, list[float]] = {}
        self.failures: list[JobFailure] = []
        self.renewals = 0

    def add(self, item_id: str, texts: list[str], tier: str = "mid") -> int:
        job_id = len(self.jobs) + 1
        self.jobs[job_id] = FakeJob(item_id, [ChunkText(job_id * 1000 + i, text) for i, text in enumerate(texts)], tier)
        return job_id

    async def claim(self, worker_id: str, model: str, max_jobs: int, lease_s: float,
                    max_attempts: int) -> list[IndexJob]:
        ready = [(job_id, job) for job_id, job in self.jobs.items()
                 if not (job.waiting or job.dead or job.owner)][:max_jobs]
        for _, job in ready:
            job.attempts += 1
            job.owner = worker_id
        return [IndexJob(job_id, job.item_id, job.attempts, job.tier, "m7", "a1", list(job.chunks))
                for job_id, job in ready]

    def expire_leases(self) -> None:
        for job in self.jobs.values():
            job.owner = None

    def end_backoffs(self) -> None:
        for job in self.jobs.values():
            job.waiting = False

    async def complete(self, worker_id: str, model: str, dims: int, done: Sequence[IndexedJob],
                       before_commit: Callable[[list[IndexJob]], Awaitable[None]]) -> list[IndexJob]:
        kept = [item for item in done
                if item.job.job_id in self.jobs and self.jobs[item.job.job_id].owner == worker_id]
        await before_commit([item.job for item in kept])
        for item in kept:
            for chunk, vector in zip(item.job.chunks, item.vectors, strict=True):
                self.vectors[chunk.chunk_id] = vector
            del self.jobs[item.job.job_id]
        return [item.job for item in kept]

    async def renew(self, worker_id: str, job_ids: Sequence[int], lease_s: float) -> None:
        self.renewals += 1

    async def fail(self, worker_id: str, failures: Sequence[JobFailure]) -> None:
        for failure in failures:
            job = self.jobs[failure.job_id]
            if job.owner == worker_id:
                self.failures.append(failure)
                job.owner, job.dead, job.waiting = None, failure.dead, True

    async def enqueue_all(self, model: str, force: bool) -> int:
        return 0

    async def stats(self) -> list[QueueStats]:
        dead = sum(job.dead for job in self.jobs.values())
        return [QueueStats("fake", len(self.jobs) - dead, 0, dead, 0.0)]
