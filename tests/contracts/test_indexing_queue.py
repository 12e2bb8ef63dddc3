"""IndexingQueue: InMemoryQueue and PgIndexingQueue lease, retry, dead-letter and count jobs alike.

Jobs come from the memory store of the same world (a stored item is enqueued for the world's model).
A lease of 0 seconds is over as soon as any time passes: that tests expiry without waiting for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from domain.memory.queue import IndexedJob, IndexJob, JobFailure, QueueStats
from infra.memory.pg_indexing_queue import PgIndexingQueue
from infra.memory.pg_memory_store import PgMemoryStore
from infra.memory.pg_pool import open_memory_pool
from tests.contracts.memory_world import (
    DIMS,
    MemoryWorld,
    fake_world,
    unit,
    world_fixture,  # noqa: F401 - the `world` fixture
    world_names,
)
from tests.contracts.support import BOTH, drop_database, fresh_database, unique

MOMENT = 0.01  # seconds: long enough for PostgreSQL's now() to move past a 0-second lease


class Commits:
    """A before_commit hook that remembers the jobs it saw."""

    def __init__(self) -> None:
        self.seen: list[list[int]] = []

    async def __call__(self, jobs: list[IndexJob]) -> None:
        self.seen.append([job.job_id for job in jobs])


def done(job: IndexJob) -> IndexedJob:
    return IndexedJob(job, [unit(0)] * len(job.chunks))


async def stats_of(world: MemoryWorld) -> QueueStats | None:
    return next((s for s in await world.queue.stats() if s.model == world.model), None)


async def claim(world: MemoryWorld, worker: str, lease_s: float = 60, max_attempts: int = 5,
                max_jobs: int = 10) -> list[IndexJob]:
    return await world.queue.claim(worker, world.model, max_jobs, lease_s, max_attempts)


async def test_a_claim_takes_ready_jobs_of_its_model_in_order_and_counts_the_attempt(world: MemoryWorld) -> None:
    first = await world.add("first item")
    second = await world.add("second item", user_message="second", agent_reply="turn")
    await world.add("third item")
    assert await world.queue.claim("w1", unique("other-model"), 10, 60, 5) == []
    jobs = await claim(world, "w1", max_jobs=2)
    assert [(job.item_id, job.attempts) for job in jobs] == [(first, 1), (second, 1)]
    assert (jobs[0].tier, jobs[0].microdao_id, jobs[0].agent_id) == ("mid", world.microdao, world.agent)
    assert [chunk.text for chunk in jobs[0].chunks] == ["first item"]
    assert [chunk.text for chunk in jobs[1].chunks] == ["second\n\nturn\n\nsecond item"]


async def test_a_leased_job_is_not_claimed_by_another_worker(world: MemoryWorld) -> None:
    await world.add("item")
    assert len(await claim(world, "w1")) == 1
    assert await claim(world, "w2") == []


async def test_a_job_whose_lease_ran_out_is_claimed_again_with_one_more_attempt(world: MemoryWorld) -> None:
    item = await world.add("item")
    await claim(world, "w1", lease_s=0)
    await world.wait(MOMENT)
    [job] = await claim(world, "w2")
    assert (job.item_id, job.attempts) == (item, 2)


async def test_completing_writes_the_vectors_and_removes_the_job(world: MemoryWorld) -> None:
    item = await world.add("item")
    [job] = await claim(world, "w1")
    commits = Commits()
    assert await world.queue.complete("w1", world.model, DIMS, [done(job)], commits) == [job]
    assert commits.seen == [[job.job_id]]
    record = await world.store.get(item, world.model)
    assert record is not None and record.indexed_chunks == record.chunks == 1
    await world.wait(MOMENT)
    assert await claim(world, "w2") == []
    assert await stats_of(world) is None, "no job of the model is left"


async def test_a_worker_that_lost_its_jobs_to_another_completes_nothing(world: MemoryWorld) -> None:
    item = await world.add("item")
    [stale] = await claim(world, "slow", lease_s=0)
    await world.wait(MOMENT)
    [taken] = await claim(world, "fast")
    commits = Commits()
    assert await world.queue.complete("slow", world.model, DIMS, [done(stale)], commits) == []
    assert commits.seen == [], "before_commit sees exactly the jobs still held: none"
    record = await world.store.get(item, world.model)
    assert record is not None and record.indexed_chunks == 0
    assert await world.queue.complete("fast", world.model, DIMS, [done(taken)], commits) == [taken]


async def test_a_worker_whose_lease_ran_out_may_still_complete_while_no_one_took_over(world: MemoryWorld) -> None:
    await world.add("item")
    [job] = await claim(world, "w1", lease_s=0)
    await world.wait(MOMENT)
    assert await world.queue.complete("w1", world.model, DIMS, [done(job)], Commits()) == [job]


async def test_when_before_commit_fails_nothing_is_written_and_the_job_stays_held(world: MemoryWorld) -> None:
    item = await world.add("item")
    [job] = await claim(world, "w1")

    async def refuse(jobs: list[IndexJob]) -> None:
        raise RuntimeError("the ledger is down")

    with pytest.raises(RuntimeError):
        await world.queue.complete("w1", world.model, DIMS, [done(job)], refuse)
    record = await world.store.get(item, world.model)
    assert record is not None and record.indexed_chunks == 0
    assert await claim(world, "w2") == []
    assert await world.queue.complete("w1", world.model, DIMS, [done(job)], Commits()) == [job]


async def test_renewing_extends_only_the_leases_this_worker_holds(world: MemoryWorld) -> None:
    await world.add("item")
    [job] = await claim(world, "w1", lease_s=0)
    await world.queue.renew("w2", [job.job_id], 60)
    await world.wait(MOMENT)
    [again] = await claim(world, "w2", lease_s=0)  # w2 held nothing: its renewal changed nothing
    await world.queue.renew("w2", [again.job_id], 60)
    await world.wait(MOMENT)
    assert await claim(world, "w3") == []


async def test_a_failed_job_waits_out_its_backoff_and_is_tried_again(world: MemoryWorld) -> None:
    await world.add("backing off")
    retried = await world.add("retried")
    jobs = {job.item_id: job for job in await claim(world, "w1")}
    await world.queue.fail("w1", [JobFailure(job.job_id, "embedder down", 0 if item == retried else 3600, False)
                                  for item, job in jobs.items()])
    await world.wait(MOMENT)
    [job] = await claim(world, "w2")
    assert (job.item_id, job.attempts) == (retried, 2)


async def test_only_the_worker_holding_a_job_can_fail_it(world: MemoryWorld) -> None:
    await world.add("item")
    [job] = await claim(world, "w1")
    await world.queue.fail("w2", [JobFailure(job.job_id, "not mine", 0, True)])
    stats = await stats_of(world)
    assert stats is not None and (stats.pending, stats.in_flight, stats.dead) == (1, 1, 0)


async def test_a_job_failed_as_dead_is_never_claimed_again(world: MemoryWorld) -> None:
    await world.add("poison")
    [job] = await claim(world, "w1")
    await world.queue.fail("w1", [JobFailure(job.job_id, "bad input", 0, True)])
    await world.wait(MOMENT)
    assert await claim(world, "w2") == []
    stats = await stats_of(world)
    assert stats is not None and (stats.pending, stats.in_flight, stats.dead) == (0, 0, 1)


async def test_a_job_whose_lease_ran_out_max_attempts_times_is_dead_lettered(world: MemoryWorld) -> None:
    """A worker that dies on a job (out of memory) must not take down one worker after another."""
    await world.add("kills its worker")
    for worker in ("w1", "w2"):
        [job] = await claim(world, worker, lease_s=0, max_attempts=2)
        await world.wait(MOMENT)
    assert job.attempts == 2
    assert await claim(world, "w3", max_attempts=2) == []
    stats = await stats_of(world)
    assert stats is not None and (stats.pending, stats.in_flight, stats.dead) == (0, 0, 1)
    await world.wait(MOMENT)
    assert await claim(world, "w4", max_attempts=5) == [], "a dead letter stays dead"


async def test_stats_count_pending_in_flight_and_dead_jobs_of_each_model(world: MemoryWorld) -> None:
    for text in ("a", "b", "c"):
        await world.add(text)
    _, second = await claim(world, "w1", max_jobs=2)
    await world.queue.fail("w1", [JobFailure(second.job_id, "bad", 0, True)])
    stats = await stats_of(world)
    assert stats is not None
    assert (stats.model, stats.pending, stats.in_flight, stats.dead) == (world.model, 2, 1, 1)
    assert stats.oldest_pending_age_seconds >= 0


async def test_a_forgotten_item_takes_its_job_with_it(world: MemoryWorld) -> None:
    item = await world.add("soon forgotten")
    await world.store.forget(item, "mid")
    assert await claim(world, "w1") == []


async def test_a_replaced_document_is_queued_again_with_its_new_chunks_only(world: MemoryWorld) -> None:
    await world.store.put_document(world.document("Policy", "Old rule.", "kb://p"), world.model)
    new = world.document("Policy", "New rule.", "kb://p")
    await world.store.put_document(new, world.model)
    [job] = await claim(world, "w1")
    assert (job.tier, [chunk.text for chunk in job.chunks]) == ("long", new.chunks)


@pytest.fixture(params=BOTH, name="lone_world")
async def lone_world_fixture(request: pytest.FixtureRequest) -> AsyncIterator[MemoryWorld]:
    """A world alone in its tables: enqueue_all reads every item there is, so postgres gets a database of its own."""
    if request.param == "fake":
        yield fake_world()
        return
    url = fresh_database(request.getfixturevalue("database_url"))
    pool = await open_memory_pool(url, size=2)
    try:
        yield MemoryWorld(PgMemoryStore(pool, DIMS), PgIndexingQueue(pool), asyncio.sleep, *world_names())
    finally:
        await pool.close()
        drop_database(url)


async def test_enqueue_all_queues_items_lacking_vectors_of_a_model_and_revives_dead_jobs(
    lone_world: MemoryWorld,
) -> None:
    world = lone_world
    indexed, dead, fresh = await world.add("indexed"), await world.add("dead"), await world.add("fresh")
    jobs = {job.item_id: job for job in await claim(world, "w1")}
    await world.queue.complete("w1", world.model, DIMS, [done(jobs[indexed])], Commits())
    await world.queue.fail("w1", [JobFailure(jobs[dead].job_id, "bad", 0, True)])
    await world.queue.fail("w1", [JobFailure(jobs[fresh].job_id, "slow", 3600, False)])
    assert await world.queue.enqueue_all(world.model, force=False) == 2, "the dead job and the one backing off"
    assert {(job.item_id, job.attempts) for job in await claim(world, "w2")} == {(dead, 1), (fresh, 1)}
    other = unique("other-model")
    assert await world.queue.enqueue_all(other, force=False) == 3
    assert await world.queue.enqueue_all(other, force=False) == 0, "their jobs are queued already"


async def test_enqueue_all_with_force_queues_every_item_again(lone_world: MemoryWorld) -> None:
    world = lone_world
    item = await world.add("indexed")
    [job] = await claim(world, "w1")
    await world.queue.complete("w1", world.model, DIMS, [done(job)], Commits())
    assert await world.queue.enqueue_all(world.model, force=False) == 0
    assert await world.queue.enqueue_all(world.model, force=True) == 1
    assert [job.item_id for job in await claim(world, "w2")] == [item]
