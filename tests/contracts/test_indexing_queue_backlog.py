"""IndexingQueue, the backlog: InMemoryQueue and PgIndexingQueue count, re-queue and drop jobs alike."""

from __future__ import annotations

from domain.memory.queue import JobFailure
from tests.contracts.memory_world import (
    DIMS,
    Commits,
    MemoryWorld,
    done,
    lone_world_fixture,  # noqa: F401 - the `lone_world` fixture
    world_fixture,  # noqa: F401 - the `world` fixture
)
from tests.contracts.support import unique


async def test_stats_count_pending_in_flight_and_dead_jobs_of_each_model(world: MemoryWorld) -> None:
    for text in ("a", "b", "c"):
        await world.add(text)
    _, second = await world.claim("w1", max_jobs=2)
    await world.queue.fail("w1", [JobFailure(second.job_id, "bad", 0, True)])
    stats = await world.stats()
    assert stats is not None
    assert (stats.model, stats.pending, stats.in_flight, stats.dead) == (world.model, 2, 1, 1)
    assert stats.oldest_pending_age_seconds >= 0


async def test_a_forgotten_item_takes_its_job_with_it(world: MemoryWorld) -> None:
    item = await world.add("soon forgotten")
    await world.store.forget(world.scope, item, "mid")
    assert await world.claim("w1") == []


async def test_a_replaced_document_is_queued_again_with_its_new_chunks_only(world: MemoryWorld) -> None:
    await world.store.put_document(world.document("Policy", "Old rule.", "kb://p"), world.model)
    new = world.document("Policy", "New rule.", "kb://p")
    await world.store.put_document(new, world.model)
    [job] = await world.claim("w1")
    assert (job.tier, [chunk.text for chunk in job.chunks]) == ("long", new.chunks)


async def test_enqueue_all_queues_items_lacking_vectors_of_a_model_and_revives_dead_jobs(
    lone_world: MemoryWorld,
) -> None:
    world = lone_world
    indexed, dead, fresh = await world.add("indexed"), await world.add("dead"), await world.add("fresh")
    jobs = {job.item_id: job for job in await world.claim("w1")}
    await world.queue.complete("w1", world.model, DIMS, [done(jobs[indexed])], Commits())
    await world.queue.fail("w1", [JobFailure(jobs[dead].job_id, "bad", 0, True)])
    await world.queue.fail("w1", [JobFailure(jobs[fresh].job_id, "slow", 3600, False)])
    assert await world.queue.enqueue_all(world.model, force=False) == 2, "the dead job and the one backing off"
    assert {(job.item_id, job.attempts) for job in await world.claim("w2")} == {(dead, 1), (fresh, 1)}
    other = unique("other-model")
    assert await world.queue.enqueue_all(other, force=False) == 3
    assert await world.queue.enqueue_all(other, force=False) == 0, "their jobs are queued already"


async def test_enqueue_all_with_force_queues_every_item_again(lone_world: MemoryWorld) -> None:
    world = lone_world
    item = await world.add("indexed")
    [job] = await world.claim("w1")
    await world.queue.complete("w1", world.model, DIMS, [done(job)], Commits())
    assert await world.queue.enqueue_all(world.model, force=False) == 0
    assert await world.queue.enqueue_all(world.model, force=True) == 1
    assert [job.item_id for job in await world.claim("w2")] == [item]
