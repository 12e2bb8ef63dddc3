"""Indexing inside the memory service: retries with backoff then dead letters, reindexing with a new model
beside the old vectors, and the background worker with its backlog metrics.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence

import httpx
import pytest

from apps.memory.app import create_app
from apps.memory.container import MemoryContainer
from domain.memory.commands import QueryMemory, StoreMemory
from domain.memory.model import MemoryContent, Scope
from domain.memory.queue import IndexingPolicy
from domain.memory.service import MemoryPolicies, MemoryService
from infra.memory.embedders.minilm import MiniLMEmbedder
from infra.memory.pg_status import memory_status
from infra.platform.clock import SystemClock
from tests.memory_support import (  # noqa: F401 - fixtures
    LabelledEmbedder,
    index_everything,
    memory_runtime_fixture,
    memory_settings,
    minilm_fixture,
    test_embedder_fixture,
    unique,
)
from tests.support import bearer, issue_key, serve_in_thread, wait_until


async def store_facts(runtime: MemoryContainer, microdao: str, texts: Sequence[str]) -> list[str]:
    return [(await runtime.service.store(Scope(microdao, "sofia"), "test",
                                         StoreMemory(MemoryContent(text=text), kind="fact"))).id for text in texts]


async def test_a_failing_memory_is_retried_with_backoff_then_dead_lettered_while_the_others_are_indexed(
    memory_runtime: MemoryContainer, minilm: MiniLMEmbedder,
) -> None:
    microdao = unique("poison")
    sofia = Scope(microdao, "sofia")
    good = await store_facts(memory_runtime, microdao, ["The boiler service is booked for Tuesday",
                                                        "The spare key is with the neighbour"])
    [bad] = await store_facts(memory_runtime, microdao, ["POISON this text breaks the embedder"])
    poisoned = LabelledEmbedder(minilm, memory_runtime.embedder.model, refuse="POISON")
    policy = IndexingPolicy(max_attempts=3, backoff_base_seconds=0.05, backoff_max_seconds=0.1)
    worker = memory_runtime.worker(policy, embedder=poisoned)
    attempts_seen = []
    for _ in range(40):
        await worker.run_once()
        row = await memory_runtime.pool.fetchrow(
            "SELECT attempts, dead_at, last_error, run_after > now() AS waiting FROM memory_index_jobs "
            "WHERE item_id = $1", bad)
        attempts_seen.append(row["attempts"])
        if row["dead_at"] is not None:
            break
        await asyncio.sleep(0.06)
    assert row["dead_at"] is not None and row["attempts"] == 3 and "POISON" in row["last_error"]
    assert sorted(set(attempts_seen)) == [1, 2, 3], "retried after each backoff"
    for item in good:
        assert (await memory_runtime.store.get(sofia, item, poisoned.model)).indexed_chunks == 1  # type: ignore[union-attr]
    status = await memory_status(memory_runtime.pool)
    assert any(letter.item_id == bad and "POISON" in (letter.error or "") for letter in status.dead_letters)
    result = await memory_runtime.service.query(sofia, QueryMemory("POISON embedder"))
    assert bad in [hit.id for hit in result.memories], "a dead letter is still found by full text"
    assert await memory_runtime.queue.enqueue_all(poisoned.model, force=False) >= 1, "reindex revives dead letters"
    assert await index_everything(memory_runtime) >= 1
    assert (await memory_runtime.store.get(sofia, bad, poisoned.model)).indexed_chunks == 1  # type: ignore[union-attr]


async def test_reindexing_with_a_new_model_writes_beside_the_old_vectors_while_queries_keep_working(
    memory_runtime: MemoryContainer, minilm: MiniLMEmbedder,
) -> None:
    microdao = unique("reindex")
    [answer, *_] = await store_facts(memory_runtime, microdao, [
        "Our accountant Iryna files the VAT return every quarter", "The team photo is on the shared drive",
        "Lunch orders go to the chat channel before eleven"])
    await index_everything(memory_runtime)
    sofia, question = Scope(microdao, "sofia"), QueryMemory("who handles our tax paperwork?", limit=3)
    new_model = LabelledEmbedder(minilm, unique("test/minilm-next"))
    queued = await memory_runtime.queue.enqueue_all(new_model.model, force=False)
    assert queued >= 3
    worker = memory_runtime.worker(embedder=new_model)
    while (await worker.run_once()).claimed:
        assert (await memory_runtime.service.query(sofia, question)).memories[0].id == answer, "queries keep working"
    models = {row["model"] for row in await memory_runtime.pool.fetch(
        "SELECT e.model FROM memory_embeddings e JOIN memory_chunks c ON c.id = e.chunk_id WHERE c.item_id = $1",
        answer)}
    assert models == {memory_runtime.embedder.model, new_model.model}
    switched = MemoryService(memory_runtime.store, new_model, memory_runtime.core.recorder, SystemClock(),
                             MemoryPolicies())
    assert (await switched.query(sofia, question)).memories[0].id == answer
    assert await memory_runtime.queue.enqueue_all(new_model.model, force=False) == 0, "nothing left to reindex"
    await memory_runtime.pool.execute("DELETE FROM memory_embeddings WHERE model = $1", new_model.model)


@pytest.fixture
def served_with_worker(database_url: str, test_embedder: LabelledEmbedder) -> Iterator[httpx.Client]:
    settings = memory_settings(indexing={"enabled": True, "workers": 1})
    with serve_in_thread(create_app(settings, embedder=test_embedder)) as base, httpx.Client(base_url=base) as client:
        yield client


def test_the_service_indexes_in_the_background_and_reports_the_backlog_in_metrics(
    served_with_worker: httpx.Client, database_url: str,
) -> None:
    agent, operator = unique("gardener"), issue_key(database_url, None)
    sofia = bearer(issue_key(database_url, agent, unique("bg")))
    response = served_with_worker.post("/internal/agent-memory/store", headers=sofia,
                                       json={"content": {"text": "The rooftop garden needs watering"}})
    memory_id = response.json()["id"]

    def indexed() -> bool:
        return bool(served_with_worker.get(f"/internal/agent-memory/{memory_id}", headers=sofia)
                    .json()["indexed_chunks"] == 1)

    wait_until(indexed, timeout=30)
    wait_until(lambda: "memory_indexed_items_total" in _metric_lines(served_with_worker, operator), timeout=10)
    metrics = _metric_lines(served_with_worker, operator)
    assert any(line.startswith("memory_index_backlog{model=") for line in metrics.splitlines())
    assert any(line.startswith("memory_index_backlog_age_seconds{model=") for line in metrics.splitlines())


def _metric_lines(client: httpx.Client, key: str) -> str:
    return "\n".join(line for line in client.get("/metrics", headers=bearer(key)).text.splitlines()
                     if line.startswith("memory_") and not line.startswith("memory_indexed_items_created"))
