"""The indexing worker: claim a batch of jobs, embed their chunks in one call, write the vectors.

With an `attribution` (the embedder bills agents: through the LLM proxy on behalf of each), a batch is embedded
in one call per (agent, microDAO) of its jobs, each inside that agent's attribution, so each agent's usage shows
its own memories' embeddings.

While it embeds, the worker renews its lease on the batch, so only a dead worker loses its jobs.
Exactly once, even across crashes: a job's vectors are written and the job removed in one database
transaction, only while this worker still holds the job's lease; its `MemoryIndexed` ledger entry
has an id derived from the job id and is committed just before that transaction, skipped when a
previous attempt (a worker killed between the two commits) already recorded it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence

import msgspec

from domain.ledger.events import LedgerEntry, MemoryIndexed
from domain.ledger.ports import LedgerLookup, UsageRecorder
from domain.memory.ports import Attribution, Embedder, IndexingQueue, TokenEncoder
from domain.memory.queue import (
    BatchReport,
    IndexedJob,
    IndexingPolicy,
    IndexJob,
    JobFailure,
    TokenVectors,
    backoff_seconds,
)

log = logging.getLogger(__name__)


def indexed_entry(job: IndexJob, model: str, dims: int) -> LedgerEntry:
    # The id is the job's, not a fresh uuid4 (ledger.new_entry): a retry must find its own entry.
    return LedgerEntry.of(
        MemoryIndexed, job.ledger_entry_id, memory_id=job.item_id, agent_id=job.agent_id,
        microdao_id=job.microdao_id, tier=job.tier, chunks=len(job.chunks), embedding_model=model,
        dimensions=dims,
    )


class _Embedded(msgspec.Struct):
    jobs: list[IndexJob]
    done: list[IndexedJob]
    failures: list[JobFailure]
    started: float


class IndexingWorker:
    def __init__(
        self, queue: IndexingQueue, embedder: Embedder, recorder: UsageRecorder, lookup: LedgerLookup,
        policy: IndexingPolicy, worker_id: str, on_batch: Callable[[BatchReport], None] | None = None,
        attribution: Attribution | None = None, tokens: Sequence[TokenEncoder] = (),
    ) -> None:
        """`tokens`: also store each chunk's token vectors of these models (for the rerank stage)."""
        self._queue = queue
        self._tokens = list(tokens)
        self._embedder = embedder
        self._recorder = recorder
        self._lookup = lookup
        self._policy = policy
        self.worker_id = worker_id
        self._on_batch = on_batch
        self._attribution = attribution

    async def run(self, stop: asyncio.Event, wake: asyncio.Event | None = None) -> None:
        """Works until `stop` is set; sleeps `poll_seconds` (or until `wake`) when the queue is empty."""
        wake = wake or asyncio.Event()
        while not stop.is_set():
            try:
                await self.drain(stop)
                pause = self._policy.poll_seconds
            except Exception:
                log.exception("indexing worker %s: batch failed; retrying after a pause", self.worker_id)
                pause = max(5.0, self._policy.poll_seconds)  # the database is likely down: do not spin
            wake.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
            await asyncio.wait(waiters, timeout=pause, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def drain(self, stop: asyncio.Event | None = None) -> int:
        """Works batches until none is ready; returns the items indexed.

        Pipelined: a batch's writes (vectors, job removal, ledger; a few commits) run while the next batch
        is being embedded, so the model is rarely idle waiting on the database.
        """
        indexed = 0
        finishing: asyncio.Task[BatchReport] | None = None
        try:
            while stop is None or not stop.is_set():
                embedded = await self._claim_and_embed()
                if finishing is not None:
                    indexed += (await finishing).indexed
                    finishing = None
                if embedded is None:
                    break
                finishing = asyncio.create_task(self._finish(embedded))
        finally:
            if finishing is not None:
                indexed += (await finishing).indexed
        return indexed

    async def run_once(self) -> BatchReport:
        """One batch, start to finish (no pipelining)."""
        embedded = await self._claim_and_embed()
        if embedded is None:
            return BatchReport(0, 0, 0, 0, 0, 0.0)
        return await self._finish(embedded)

    async def _claim_and_embed(self) -> _Embedded | None:
        started = time.perf_counter()
        policy = self._policy
        jobs = await self._queue.claim(self.worker_id, self._embedder.model, policy.batch_items,
                                       policy.lease_seconds, policy.max_attempts)
        if not jobs:
            return None
        log.info("worker %s claimed %d jobs", self.worker_id, len(jobs))
        async with self._lease_kept([job.job_id for job in jobs]):
            done, failures = await self._embed(jobs)
        return _Embedded(jobs, done, failures, started)

    async def _finish(self, embedded: _Embedded) -> BatchReport:
        indexed: list[IndexJob] = []
        if embedded.done:
            indexed = await self._queue.complete(self.worker_id, self._embedder.model, self._embedder.dimensions,
                                                 embedded.done, self._record)
        if embedded.failures:
            await self._queue.fail(self.worker_id, embedded.failures)
        failures = embedded.failures
        report = BatchReport(
            claimed=len(embedded.jobs), indexed=len(indexed), failed=len(failures),
            dead=sum(failure.dead for failure in failures), chunks=sum(len(job.chunks) for job in indexed),
            seconds=time.perf_counter() - embedded.started, item_ids=[job.item_id for job in indexed],
        )
        log.debug("worker %s indexed %s", self.worker_id, " ".join(report.item_ids))
        if self._on_batch is not None:
            self._on_batch(report)
        return report

    @contextlib.asynccontextmanager
    async def _lease_kept(self, job_ids: list[int]) -> AsyncIterator[None]:
        """Renews the lease every third of its length while embedding: a slow batch keeps its jobs, yet a
        dead worker's jobs come back within one lease."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(self._policy.lease_seconds / 3)
                await self._queue.renew(self.worker_id, job_ids, self._policy.lease_seconds)

        task = asyncio.create_task(renew())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _embed(self, jobs: list[IndexJob]) -> tuple[list[IndexedJob], list[JobFailure]]:
        try:
            return await self._embed_together(jobs), []
        except Exception as exc:  # noqa: BLE001 - any embedder failure is a job failure, retried with backoff
            if len(jobs) == 1:
                return [], [self._failure(jobs[0], exc)]
        # One bad input must not fail (and, retried together, dead-letter) the whole batch: isolate it.
        done: list[IndexedJob] = []
        failures: list[JobFailure] = []
        for job in jobs:
            try:
                done.extend(await self._embed_together([job]))
            except Exception as exc:  # noqa: BLE001 - as above, one job at a time
                failures.append(self._failure(job, exc))
        return done, failures

    async def _embed_together(self, jobs: list[IndexJob]) -> list[IndexedJob]:
        attribution = self._attribution
        if attribution is None:
            return await self._embed_group(jobs)
        groups: dict[tuple[str, str], list[IndexJob]] = {}
        for job in jobs:
            groups.setdefault((job.agent_id, job.microdao_id), []).append(job)

        async def embed_as(agent_id: str, microdao_id: str, group: list[IndexJob]) -> list[IndexedJob]:
            with attribution(agent_id, microdao_id):
                return await self._embed_group(group)

        embedded = await asyncio.gather(*(embed_as(*tenant, group) for tenant, group in groups.items()))
        by_id = {indexed.job.job_id: indexed for group in embedded for indexed in group}
        return [by_id[job.job_id] for job in jobs]

    async def _embed_group(self, jobs: list[IndexJob]) -> list[IndexedJob]:
        texts = [chunk.text for job in jobs for chunk in job.chunks]
        if not texts:
            return [IndexedJob(job, []) for job in jobs]
        packed: list[list[bytes]] = []
        if self._tokens:  # every model at once: each runs on a thread of its own
            vectors, packed = await asyncio.gather(
                self._embedder.embed(texts), asyncio.gather(*(encoder.token_vectors(texts) for encoder in self._tokens)))
        else:
            vectors = await self._embedder.embed(texts)
        if len(vectors) != len(texts):
            raise RuntimeError(f"the embedder returned {len(vectors)} vectors for {len(texts)} texts")
        for encoder, found in zip(self._tokens, packed, strict=True):
            if len(found) != len(texts):
                raise RuntimeError(f"{encoder.model} returned token vectors for {len(found)} of {len(texts)} texts")
        done: list[IndexedJob] = []
        offset = 0
        for job in jobs:
            end = offset + len(job.chunks)
            tokens = [TokenVectors(encoder.model, encoder.dimensions, found[offset:end])
                      for encoder, found in zip(self._tokens, packed, strict=True)]
            done.append(IndexedJob(job, vectors[offset:end], tokens))
            offset = end
        return done

    def _failure(self, job: IndexJob, exc: Exception) -> JobFailure:
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        dead = job.attempts >= self._policy.max_attempts
        log.warning("indexing %s failed (attempt %d%s): %s", job.item_id, job.attempts,
                    ", dead-lettered" if dead else "", message)
        return JobFailure(job.job_id, message[:2000], backoff_seconds(job.attempts, self._policy), dead)

    async def _record(self, jobs: list[IndexJob]) -> None:
        retried = [job.ledger_entry_id for job in jobs if job.attempts > 1]
        already = await self._lookup.recorded(retried) if retried else set()
        model, dims = self._embedder.model, self._embedder.dimensions
        entries = [indexed_entry(job, model, dims) for job in jobs if job.ledger_entry_id not in already]
        await asyncio.gather(*(self._recorder.record(entry) for entry in entries))
