"""The indexing queue's vocabulary: jobs, their outcomes, the retry policy and the backlog figures.

A job is (item, model): embed every chunk of one memory or document with one model. A worker claims
jobs under a lease (attempts + 1 at each claim); it completes them only while it still holds the lease,
so a worker that stalled past its lease cannot write over the one that took the jobs over. A failed job
waits `backoff_seconds(attempts)` before its next try and is dead-lettered after `max_attempts` claims,
whether they failed with an error or by the worker dying (lease expired).
"""

from __future__ import annotations

import uuid

import msgspec

# Stable namespace for ledger entry ids derived from job ids (never change: ids in the ledger use it).
_INDEXED_NAMESPACE = uuid.UUID("6f1c2d0e-7a43-4b8e-9a52-4d1f0e3c9b17")


class IndexingPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    enabled: bool = True
    workers: int = 1
    batch_items: int = 32
    lease_seconds: float = 60.0
    max_attempts: int = 5
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 300.0
    poll_seconds: float = 0.5

    def __post_init__(self) -> None:
        if self.workers < 0 or self.batch_items < 1 or self.max_attempts < 1:
            raise ValueError("workers must be >= 0, batch_items and max_attempts >= 1")
        if min(self.lease_seconds, self.backoff_base_seconds, self.poll_seconds) <= 0:
            raise ValueError("lease_seconds, backoff_base_seconds and poll_seconds must be positive")


def backoff_seconds(attempts: int, policy: IndexingPolicy) -> float:
    """Exponential: base, 2·base, 4·base ... capped at backoff_max_seconds."""
    return float(min(policy.backoff_max_seconds, policy.backoff_base_seconds * 2 ** max(0, attempts - 1)))


class ChunkText(msgspec.Struct, frozen=True):
    chunk_id: int
    text: str


class IndexJob(msgspec.Struct, frozen=True):
    job_id: int
    item_id: str
    attempts: int
    tier: str
    microdao_id: str
    agent_id: str
    chunks: list[ChunkText]

    @property
    def ledger_entry_id(self) -> uuid.UUID:
        """One MemoryIndexed per job, even if a worker dies between the ledger and the database commit."""
        return uuid.uuid5(_INDEXED_NAMESPACE, f"memory-indexed:{self.job_id}")


class TokenVectors(msgspec.Struct, frozen=True):
    """A job's chunks' packed token vectors (domain.memory.ports.TokenEncoder), in chunk order."""

    model: str
    dims: int
    chunks: list[bytes]


class IndexedJob(msgspec.Struct, frozen=True):
    job: IndexJob
    vectors: list[list[float]]
    tokens: list[TokenVectors] = msgspec.field(default_factory=list)


class JobFailure(msgspec.Struct, frozen=True):
    job_id: int
    error: str
    retry_in_seconds: float
    dead: bool


class QueueStats(msgspec.Struct, frozen=True):
    model: str
    pending: int
    in_flight: int
    dead: int
    oldest_pending_age_seconds: float


class BatchReport(msgspec.Struct, frozen=True):
    claimed: int
    indexed: int
    failed: int
    dead: int
    chunks: int
    seconds: float
    item_ids: list[str] = []
