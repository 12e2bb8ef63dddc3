"""IndexingQueue: InMemoryQueue and PgIndexingQueue lease, complete, retry and dead-letter jobs alike.

Jobs come from the memory store of the same world (a stored item is enqueued for the world's model).
A lease of 0 seconds is over as soon as any time passes: that tests expiry without waiting for it.
"""

from __future__ import annotations

import pytest

from domain.memory.queue import IndexJob, JobFailure
from tests.contracts.memory_world import (
    DIMS,
    MOMENT,
    Commits,
    MemoryWorld,
    done,
    world_fixture,  # noqa: F401 - the `world` fixture
)
from tests.contracts.support import unique


async def test_a_claim_takes_ready_jobs_of_its_model_in_order_and_counts_the_attempt(world: MemoryWorld) -> None:
    first = await world.add("first item")
    second = await world.add("second item", user_message="second", agent_reply="turn")
    await world.add("third item")
    assert await world.queue.claim("w1", unique("other-model"), 10, 60, 5) == []
    jobs = await world.claim("w1", max_jobs=2)
    assert [(job.item_id, job.attempts) for job in jobs] == [(first, 1), (second, 1)]
    assert (jobs[0].tier, jobs[0].microdao_id, jobs[0].agent_id) == ("mid", world.microdao, world.agent)
    assert [chunk.text for chunk in jobs[0].chunks] == ["first item"]
    assert [chunk.text for chunk in jobs[1].chunks] == ["second\n\nturn\n\nsecond item"]


async def test_a_leased_job_is_not_claimed_by_another_worker(world: MemoryWorld) -> None:
    await world.add("item")
    assert len(await world.claim("w1")) == 1
    assert await world.claim("w2") == []


async def test_a_job_whose_lease_ran_out_is_claimed_again_with_one_more_attempt(world: MemoryWorld) -> None:
    item = await world.add("item")
    await world.claim("w1", lease_s=0)
    await world.wait(MOMENT)
    [job] = await world.claim("w2")
    assert (job.item_id, job.attempts) == (item, 2)


async def test_completing_writes_the_vectors_and_removes_the_job(world: MemoryWorld) -> None:
    item = await world.add("item")
    [job] = await world.claim("w1")
    commits = Commits()
    assert await world.queue.complete("w1", world.model, DIMS, [done(job)], commits) == [job]
    assert commits.seen == [[job.job_id]]
    record = await world.store.get(world.scope, item, world.model)
    assert record is not None and record.indexed_chunks == record.chunks == 1
    await world.wait(MOMENT)
    assert await world.claim("w2") == []
    assert await world.stats() is None, "no job of the model is left"


async def test_a_worker_that_lost_its_jobs_to_another_completes_nothing(world: MemoryWorld) -> None:
    item = await world.add("item")
    [stale] = await world.claim("slow", lease_s=0)
    await world.wait(MOMENT)
    [taken] = await world.claim("fast")
    commits = Commits()
    assert await world.queue.complete("slow", world.model, DIMS, [done(stale)], commits) == []
    assert commits.seen == [], "before_commit sees exactly the jobs still held: none"
    record = await world.store.get(world.scope, item, world.model)
    assert record is not None and record.indexed_chunks == 0
    assert await world.queue.complete("fast", world.model, DIMS, [done(taken)], commits) == [taken]


async def test_a_worker_whose_lease_ran_out_may_still_complete_while_no_one_took_over(world: MemoryWorld) -> None:
    await world.add("item")
    [job] = await world.claim("w1", lease_s=0)
    await world.wait(MOMENT)
    assert await world.queue.complete("w1", world.model, DIMS, [done(job)], Commits()) == [job]


async def test_when_before_commit_fails_nothing_is_written_and_the_job_stays_held(world: MemoryWorld) -> None:
    item = await world.add("item")
    [job] = await world.claim("w1")

    async def refuse(jobs: list[IndexJob]) -> None:
        raise RuntimeError("the ledger is down")

    with pytest.raises(RuntimeError):
        await world.queue.complete("w1", world.model, DIMS, [done(job)], refuse)
    record = await world.store.get(world.scope, item, world.model)
    assert record is not None and record.indexed_chunks == 0
    assert await world.claim("w2") == []
    assert await world.queue.complete("w1", world.model, DIMS, [done(job)], Commits()) == [job]


async def test_renewing_extends_only_the_leases_this_worker_holds(world: MemoryWorld) -> None:
    await world.add("item")
    [job] = await world.claim("w1", lease_s=0)
    await world.queue.renew("w2", [job.job_id], 60)
    await world.wait(MOMENT)
    [again] = await world.claim("w2", lease_s=0)  # w2 held nothing: its renewal changed nothing
    await world.queue.renew("w2", [again.job_id], 60)
    await world.wait(MOMENT)
    assert await world.claim("w3") == []


async def test_a_failed_job_waits_out_its_backoff_and_is_tried_again(world: MemoryWorld) -> None:
    await world.add("backing off")
    retried = await world.add("retried")
    jobs = {job.item_id: job for job in await world.claim("w1")}
    await world.queue.fail("w1", [JobFailure(job.job_id, "embedder down", 0 if item == retried else 3600, False)
                                  for item, job in jobs.items()])
    await world.wait(MOMENT)
    [job] = await world.claim("w2")
    assert (job.item_id, job.attempts) == (retried, 2)


async def test_only_the_worker_holding_a_job_can_fail_it(world: MemoryWorld) -> None:
    await world.add("item")
    [job] = await world.claim("w1")
    await world.queue.fail("w2", [JobFailure(job.job_id, "not mine", 0, True)])
    stats = await world.stats()
    assert stats is not None and (stats.pending, stats.in_flight, stats.dead) == (1, 1, 0)


async def test_a_job_failed_as_dead_is_never_claimed_again(world: MemoryWorld) -> None:
    await world.add("poison")
    [job] = await world.claim("w1")
    await world.queue.fail("w1", [JobFailure(job.job_id, "bad input", 0, True)])
    await world.wait(MOMENT)
    assert await world.claim("w2") == []
    stats = await world.stats()
    assert stats is not None and (stats.pending, stats.in_flight, stats.dead) == (0, 0, 1)


async def test_a_job_whose_lease_ran_out_max_attempts_times_is_dead_lettered(world: MemoryWorld) -> None:
    """A worker that dies on a job (out of memory) must not take down one worker after another."""
    await world.add("kills its worker")
    for worker in ("w1", "w2"):
        [job] = await world.claim(worker, lease_s=0, max_attempts=2)
        await world.wait(MOMENT)
    assert job.attempts == 2
    assert await world.claim("w3", max_attempts=2) == []
    stats = await world.stats()
    assert stats is not None and (stats.pending, stats.in_flight, stats.dead) == (0, 0, 1)
    await world.wait(MOMENT)
    assert await world.claim("w4", max_attempts=5) == [], "a dead letter stays dead"
