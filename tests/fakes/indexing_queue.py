"""The IndexingQueue twin, with PgIndexingQueue's rules (see domain.memory.queue and its SQL)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from domain.kernel.clock import Clock
from domain.memory.model import Scope, content_hash
from domain.memory.queue import IndexedJob, IndexJob, JobFailure, QueueStats
from tests.fakes.memory_tables import Item, Job, MemoryTables

SOME_SCOPE = Scope("m7", "a1")


class InMemoryQueue:
    """Ready jobs of a model are claimed in (run_after, id) order under a lease, attempts + 1 at each
    claim; a job claimed more than max_attempts times lost its lease every time and is dead-lettered.
    complete, renew and fail touch only the jobs this worker holds (the last to claim them). Time is
    the tables' clock: `advance` it to run leases and backoffs out."""

    def __init__(self, tables: MemoryTables | None = None, clock: Clock | None = None) -> None:
        self.tables = tables or MemoryTables(clock)
        self.failures: list[JobFailure] = []
        self.renewals = 0

    @property
    def jobs(self) -> dict[int, Job]:
        return self.tables.jobs

    @property
    def vectors(self) -> dict[tuple[int, str], list[float]]:
        return self.tables.vectors

    def add(self, item_id: str, texts: list[str], tier: str = "mid", model: str = "fake-bow",
            scope: Scope = SOME_SCOPE) -> int:
        """An item with one chunk per text and its job for `model`; returns the job id."""
        now, text = self.tables.now(), "\n\n".join(texts)
        item = Item(item_id, tier, "fact" if tier == "mid" else "document", scope.microdao_id, scope.agent_id, text,
                    content_hash(text), {}, now, now)
        return self.tables.insert(item, texts, model)

    def expire_leases(self) -> None:
        for job in self.jobs.values():
            if job.locked_until is not None:
                job.locked_until = self.tables.now() - timedelta(microseconds=1)

    def end_backoffs(self) -> None:
        for job in self.jobs.values():
            job.run_after = min(job.run_after, self.tables.now())

    async def claim(self, worker_id: str, model: str, max_jobs: int, lease_s: float,
                    max_attempts: int) -> list[IndexJob]:
        now = self.tables.now()
        ready = sorted((job.run_after, job_id) for job_id, job in self.jobs.items()
                       if job.model == model and not job.dead and job.run_after <= now
                       and (job.locked_until is None or job.locked_until < now))[:max_jobs]
        claimed = [job_id for _, job_id in ready]
        for job_id in claimed:
            job = self.jobs[job_id]
            job.attempts, job.locked_by, job.locked_until = job.attempts + 1, worker_id, self.tables.later(lease_s)
        lost = [job_id for job_id in claimed if self.jobs[job_id].attempts > max_attempts]
        if lost:
            await self.fail(worker_id, [
                JobFailure(job_id, f"lease expired {self.jobs[job_id].attempts - 1} times: the worker died on it",
                           0, True) for job_id in lost
            ])
        return [self._job(job_id) for job_id in claimed if job_id not in lost]

    async def complete(self, worker_id: str, model: str, dims: int, done: Sequence[IndexedJob],
                       before_commit: Callable[[list[IndexJob]], Awaitable[None]]) -> list[IndexJob]:
        kept = [item for item in done if self._held(item.job.job_id, worker_id)]
        if kept:
            await before_commit([item.job for item in kept])  # raising here commits nothing, as a rollback
        for item in kept:
            for chunk, vector in zip(item.job.chunks, item.vectors, strict=True):
                self.vectors[(chunk.chunk_id, model)] = vector
            del self.jobs[item.job.job_id]
        return [item.job for item in kept]

    async def renew(self, worker_id: str, job_ids: Sequence[int], lease_s: float) -> None:
        self.renewals += 1
        for job_id in job_ids:
            if self._held(job_id, worker_id):
                self.jobs[job_id].locked_until = self.tables.later(lease_s)

    async def fail(self, worker_id: str, failures: Sequence[JobFailure]) -> None:
        for failure in failures:
            if self._held(failure.job_id, worker_id):
                self.failures.append(failure)
                job = self.jobs[failure.job_id]
                job.locked_by = job.locked_until = None
                job.last_error, job.dead = failure.error, failure.dead
                job.run_after = self.tables.later(failure.retry_in_seconds)

    async def enqueue_all(self, model: str, force: bool) -> int:
        now, count = self.tables.now(), 0
        jobs = {job.item_id: job for job in self.jobs.values() if job.model == model}
        for item in list(self.tables.items.values()):
            if not force and self.tables.indexed_chunks(item, model) == len(item.chunks):
                continue
            job = jobs.get(item.id)
            if job is None:
                self.tables.enqueue(item.id, model)
            elif job.dead or job.run_after > now:  # dead or backing off: a fresh start
                job.attempts, job.dead, job.last_error, job.run_after, job.created_at = 0, False, None, now, now
            else:
                continue
            count += 1
        return count

    async def stats(self) -> list[QueueStats]:
        now, stats = self.tables.now(), []
        for model in sorted({job.model for job in self.jobs.values()}):
            jobs = [job for job in self.jobs.values() if job.model == model]
            live = [job for job in jobs if not job.dead]
            in_flight = sum(job.locked_until is not None and job.locked_until > now for job in live)
            age = (now - min(job.created_at for job in live)).total_seconds() if live else 0.0
            stats.append(QueueStats(model, len(live), in_flight, len(jobs) - len(live), age))
        return stats

    def _held(self, job_id: int, worker_id: str) -> bool:
        job = self.jobs.get(job_id)
        return job is not None and job.locked_by == worker_id

    def _job(self, job_id: int) -> IndexJob:
        job = self.jobs[job_id]
        item = self.tables.items[job.item_id]
        return IndexJob(job_id, item.id, job.attempts, item.tier, item.microdao_id, item.agent_id, list(item.chunks))
