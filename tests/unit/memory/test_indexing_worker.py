"""The indexing worker against fakes: batching, failure isolation, backoff, dead letters, exactly-once ledger."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest

from domain.ledger.events import MemoryIndexed
from domain.memory.indexing import IndexingWorker
from domain.memory.model import Scope
from domain.memory.queue import BatchReport, IndexingPolicy, backoff_seconds
from tests.fakes.indexing_queue import InMemoryQueue
from tests.fakes.ledger import FakeRecorder, SetLookup
from tests.fakes.memory import FakeEmbedder

POLICY = IndexingPolicy(batch_items=10, max_attempts=3, backoff_base_seconds=2, backoff_max_seconds=5)


def worker(queue: InMemoryQueue, embedder: FakeEmbedder, recorder: FakeRecorder,
           lookup: SetLookup | None = None, worker_id: str = "w1") -> IndexingWorker:
    return IndexingWorker(queue, embedder, recorder, lookup or SetLookup(), POLICY, worker_id)


async def test_a_batch_of_jobs_is_embedded_in_one_call_and_recorded_once_per_memory() -> None:
    queue, embedder, recorder = InMemoryQueue(), FakeEmbedder(), FakeRecorder()
    for i in range(4):
        queue.add(f"item-{i}", [f"text {i} part a", f"text {i} part b"])
    report = await worker(queue, embedder, recorder).run_once()
    assert (report.claimed, report.indexed, report.chunks) == (4, 4, 8)
    assert len(embedder.calls) == 1 and len(embedder.calls[0]) == 8
    assert len(queue.vectors) == 8 and not queue.jobs
    events = recorder.events(MemoryIndexed)
    assert sorted(e.memory_id for e in events) == [f"item-{i}" for i in range(4)]
    assert {(e.chunks, e.embedding_model, e.dimensions) for e in events} == {(2, "fake-bow", 64)}


async def test_with_an_attribution_a_batch_is_embedded_once_per_agent_inside_that_agent_s_attribution() -> None:
    queue, recorder = InMemoryQueue(), FakeRecorder()
    current: list[tuple[str, str]] = []
    billed: list[tuple[tuple[str, str], list[str]]] = []

    class RecordingEmbedder(FakeEmbedder):
        async def embed(self, texts: Sequence[str]) -> list[list[float]]:
            billed.append((current[-1], list(texts)))
            return await super().embed(texts)

    @contextmanager
    def attribution(agent_id: str, microdao_id: str) -> Iterator[None]:
        current.append((agent_id, microdao_id))
        yield

    sofia, olena = Scope("microdao:7", "agent:sofia"), Scope("microdao:8", "agent:olena")
    for i, scope in enumerate([sofia, olena, sofia]):
        queue.add(f"item-{i}", [f"text {i}"], scope=scope)
    report = await IndexingWorker(queue, RecordingEmbedder(), recorder, SetLookup(), POLICY, "w",
                                  attribution=attribution).run_once()
    assert report.indexed == 3 and len(queue.vectors) == 3
    assert sorted(billed) == [(("agent:olena", "microdao:8"), ["text 1"]),
                              (("agent:sofia", "microdao:7"), ["text 0", "text 2"])]


async def test_draining_works_every_batch_overlapping_each_batch_s_writes_with_the_next_embedding() -> None:
    queue, embedder, recorder = InMemoryQueue(), FakeEmbedder(), FakeRecorder()
    for i in range(25):
        queue.add(f"item-{i}", [f"text {i}"])
    reports: list[BatchReport] = []
    drained = await IndexingWorker(queue, embedder, recorder, SetLookup(), POLICY, "w", reports.append).drain()
    assert drained == 25 and not queue.jobs
    assert [r.indexed for r in reports] == [10, 10, 5]
    assert len(recorder.events(MemoryIndexed)) == 25


async def test_one_bad_input_fails_alone_while_the_rest_of_its_batch_is_indexed() -> None:
    queue, recorder = InMemoryQueue(), FakeRecorder()
    queue.add("good-1", ["fine"])
    poison = queue.add("bad", ["POISON pill"])
    queue.add("good-2", ["also fine"])
    report = await worker(queue, FakeEmbedder(fail_on="POISON"), recorder).run_once()
    assert (report.indexed, report.failed, report.dead) == (2, 1, 0)
    assert list(queue.jobs) == [poison]
    [failure] = queue.failures
    assert failure.retry_in_seconds == 2 and not failure.dead and "POISON" in failure.error


async def test_a_job_failing_every_time_is_dead_lettered_after_max_attempts_with_growing_backoff() -> None:
    queue = InMemoryQueue()
    queue.add("bad", ["POISON"])
    indexing = worker(queue, FakeEmbedder(fail_on="POISON"), FakeRecorder())
    for _ in range(POLICY.max_attempts):
        await indexing.run_once()
        queue.end_backoffs()
    assert [(f.retry_in_seconds, f.dead) for f in queue.failures] == [(2, False), (4, False), (5, True)]
    assert (await indexing.run_once()).claimed == 0, "a dead letter is not claimed again"


def test_backoff_doubles_from_the_base_and_stops_at_the_cap() -> None:
    policy = IndexingPolicy(backoff_base_seconds=2, backoff_max_seconds=30)
    assert [backoff_seconds(n, policy) for n in range(1, 7)] == [2, 4, 8, 16, 30, 30]


async def test_a_worker_that_lost_its_lease_writes_nothing() -> None:
    queue, recorder = InMemoryQueue(), FakeRecorder()
    queue.add("item", ["text"])
    slow = worker(queue, FakeEmbedder(), recorder, worker_id="slow")
    jobs = await queue.claim("slow", "fake-bow", 10, 60, 3)
    queue.expire_leases()
    taken_over = await worker(queue, FakeEmbedder(), recorder, worker_id="fast").run_once()
    assert taken_over.indexed == 1
    done, _ = await slow._embed(jobs)
    assert await queue.complete("slow", "fake-bow", 64, done, slow._record) == []
    assert len(recorder.events(MemoryIndexed)) == 1


async def test_a_retried_job_whose_ledger_entry_exists_is_not_recorded_twice() -> None:
    queue, recorder = InMemoryQueue(), FakeRecorder()
    queue.add("item", ["text"])
    [job] = await queue.claim("dead-worker", "fake-bow", 10, 60, 3)
    queue.expire_leases()  # the worker died after recording, before its database commit
    report = await worker(queue, FakeEmbedder(), recorder, SetLookup({job.ledger_entry_id})).run_once()
    assert report.indexed == 1
    assert recorder.events(MemoryIndexed) == []


async def test_a_slow_batch_keeps_renewing_its_lease_while_it_embeds() -> None:
    class SlowEmbedder(FakeEmbedder):
        async def embed(self, texts: Sequence[str]) -> list[list[float]]:
            await asyncio.sleep(0.25)
            return await super().embed(texts)

    queue = InMemoryQueue()
    queue.add("item", ["text"])
    policy = IndexingPolicy(lease_seconds=0.15)
    report = await IndexingWorker(queue, SlowEmbedder(), FakeRecorder(), SetLookup(), policy, "w").run_once()
    assert report.indexed == 1 and queue.renewals >= 3


async def test_the_run_loop_stops_when_asked_even_while_idle() -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(worker(InMemoryQueue(), FakeEmbedder(), FakeRecorder()).run(stop))
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=2)


@pytest.mark.parametrize("attempts", [1, 2])
def test_ledger_entry_ids_are_derived_from_the_job_not_the_attempt(attempts: int) -> None:
    from domain.memory.queue import IndexJob

    first = IndexJob(7, "item", 1, "mid", "m", "a", [])
    assert IndexJob(7, "item", attempts, "mid", "m", "a", []).ledger_entry_id == first.ledger_entry_id
    assert IndexJob(8, "item", attempts, "mid", "m", "a", []).ledger_entry_id != first.ledger_entry_id
