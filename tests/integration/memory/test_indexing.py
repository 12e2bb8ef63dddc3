"""The indexing pipeline on PostgreSQL: worker processes killed mid-batch, retries, dead letters, reindex."""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from apps.memory.app import create_app
from apps.memory.runtime import MemoryRuntime
from domain.ledger.events import MemoryIndexed
from domain.memory.chunking import ChunkingPolicy
from domain.memory.commands import QueryMemory, StoreMemory, to_memory
from domain.memory.model import MemoryContent, MemoryLimits
from domain.memory.queue import IndexingPolicy
from domain.memory.service import MemoryPolicies, MemoryService
from infra.ledger.event_store import open_ledger
from infra.memory.embedders.minilm import MiniLMEmbedder
from infra.memory.pg_memory_store import PgMemoryStore
from infra.memory.pg_pool import open_memory_pool
from infra.memory.pg_status import memory_status
from infra.platform.clock import SystemClock
from tests.memory_support import (  # noqa: F401 - fixtures
    LabelledEmbedder,
    index_everything,
    isolated_database_fixture,
    ledger_events,
    memory_runtime_fixture,
    memory_settings,
    minilm_fixture,
    test_embedder_fixture,
    unique,
)
from tests.support import REPO, serve_in_thread, wait_until

ROOT = REPO
MINILM = "sentence-transformers/all-MiniLM-L6-v2"  # what worker processes on the shipped config embed with


async def store_facts(runtime: MemoryRuntime, microdao: str, texts: Sequence[str]) -> list[str]:
    return [(await runtime.service.store("test", StoreMemory("sofia", MemoryContent(text=text), microdao_id=microdao,
                                                             kind="fact"))).id for text in texts]


async def store_directly(pool: Any, texts: Sequence[str]) -> list[str]:
    """Memories queued for the configured (real) model, in a database no test runtime is attached to."""
    store = PgMemoryStore(pool, 384)
    commands = [StoreMemory("sofia", MemoryContent(text=text), microdao_id="m", kind="fact") for text in texts]
    return [(await store.add_memory(to_memory(command, MemoryLimits(), ChunkingPolicy()), MINILM)).id
            for command in commands]


class WorkerProcess:
    """`python -m apps.memory.cli worker --verbose` with its log lines collected as they come."""

    def __init__(self, config: Path, database_url: str) -> None:
        env = {**os.environ, "DAARION_MEMORY_CONFIG": str(config), "PYTHONUNBUFFERED": "1",
               "DATABASE_URL": database_url}
        self.process = subprocess.Popen([sys.executable, "-m", "apps.memory.cli", "worker", "--verbose"], cwd=ROOT,
                                        env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 120) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                assert self.process.poll() is None, f"worker exited: {''.join(self.log[-20:])}"
                continue
            self.log.append(line)
            if match := re.search(pattern, line):
                return match
        raise TimeoutError(f"no line matching {pattern!r}; last lines: {''.join(self.log[-10:])}")

    def indexed_ids(self) -> set[str]:
        while not self.lines.empty():
            self.log.append(self.lines.get())
        return {item for line in self.log if " indexed " in line for item in line.split(" indexed ", 1)[1].split()}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


@pytest.fixture
def worker_config(tmp_path: Path) -> Path:
    config = tmp_path / "memory.yaml"
    config.write_text("indexing:\n  batch_items: 16\n  lease_seconds: 3\n  poll_seconds: 0.2\n"
                      "  backoff_base_seconds: 0.2\n")
    return config


async def test_worker_processes_killed_mid_batch_lose_nothing_and_index_every_memory_exactly_once(
    isolated_database: str, worker_config: Path,
) -> None:
    # Long texts (about 600 characters) so a batch takes long enough to be killed inside it.
    filler = " ".join(f"clause {j} of the agreement covers delivery, payment and liability terms." for j in range(8))
    pool = await open_memory_pool(isolated_database, size=2)
    ledger = open_ledger(isolated_database)
    try:
        items = await store_directly(pool, [f"Contract {i}: {filler}" for i in range(96)])
        first, second = WorkerProcess(worker_config, isolated_database), WorkerProcess(worker_config, isolated_database)
        restarted: WorkerProcess | None = None
        try:
            first.wait_for(r"indexed \S")  # a batch of its own committed, then
            victim = first.wait_for(r"worker (\S+) claimed \d+ jobs", timeout=60).group(1)
            first.process.send_signal(signal.SIGKILL)  # killed in the middle of embedding the next one
            first.process.wait(timeout=10)
            held = await pool.fetchval("SELECT count(*) FROM memory_index_jobs WHERE locked_by = $1", victim)
            assert held > 0, "the worker was killed holding a claimed batch"
            restarted = WorkerProcess(worker_config, isolated_database)
            deadline = time.monotonic() + 150
            while await pool.fetchval("SELECT count(*) FROM memory_index_jobs"):
                assert time.monotonic() < deadline, "indexing did not finish"
                await asyncio.sleep(0.5)
        finally:
            for process in (first, second, restarted):
                if process is not None:
                    process.stop()
        assert restarted is not None
        mine = [worker.indexed_ids() for worker in (first, second, restarted)]
        assert sum(len(ids) for ids in mine) == len(items), "no memory was embedded by two workers"
        assert set().union(*mine) == set(items)
        assert sum(bool(ids) for ids in mine) >= 2, "the work was shared between processes"
        assert await pool.fetchval("SELECT count(*) FROM memory_embeddings") == len(items)
        indexed_events = await asyncio.to_thread(ledger_events, ledger, MemoryIndexed)
        assert sorted(e.memory_id for e in indexed_events) == sorted(items), "one MemoryIndexed per memory"
    finally:
        ledger.close()
        await pool.close()


async def test_a_failing_memory_is_retried_with_backoff_then_dead_lettered_while_the_others_are_indexed(
    memory_runtime: MemoryRuntime, minilm: MiniLMEmbedder,
) -> None:
    microdao = unique("poison")
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
        assert (await memory_runtime.store.get(item, poisoned.model)).indexed_chunks == 1  # type: ignore[union-attr]
    status = await memory_status(memory_runtime.pool)
    assert any(letter.item_id == bad and "POISON" in (letter.error or "") for letter in status.dead_letters)
    result = await memory_runtime.service.query(QueryMemory("sofia", microdao, "POISON embedder"))
    assert bad in [hit.id for hit in result.memories], "a dead letter is still found by full text"
    assert await memory_runtime.queue.enqueue_all(poisoned.model, force=False) >= 1, "reindex revives dead letters"
    assert await index_everything(memory_runtime) >= 1
    assert (await memory_runtime.store.get(bad, poisoned.model)).indexed_chunks == 1  # type: ignore[union-attr]


async def test_reindexing_with_a_new_model_writes_beside_the_old_vectors_while_queries_keep_working(
    memory_runtime: MemoryRuntime, minilm: MiniLMEmbedder,
) -> None:
    microdao = unique("reindex")
    [answer, *_] = await store_facts(memory_runtime, microdao, [
        "Our accountant Iryna files the VAT return every quarter", "The team photo is on the shared drive",
        "Lunch orders go to the chat channel before eleven"])
    await index_everything(memory_runtime)
    question = QueryMemory("sofia", microdao, "who handles our tax paperwork?", limit=3)
    new_model = LabelledEmbedder(minilm, unique("test/minilm-next"))
    queued = await memory_runtime.queue.enqueue_all(new_model.model, force=False)
    assert queued >= 3
    worker = memory_runtime.worker(embedder=new_model)
    while (await worker.run_once()).claimed:
        assert (await memory_runtime.service.query(question)).memories[0].id == answer, "queries keep working"
    models = {row["model"] for row in await memory_runtime.pool.fetch(
        "SELECT e.model FROM memory_embeddings e JOIN memory_chunks c ON c.id = e.chunk_id WHERE c.item_id = $1",
        answer)}
    assert models == {memory_runtime.embedder.model, new_model.model}
    switched = MemoryService(memory_runtime.store, new_model, memory_runtime.core.recorder, SystemClock(),
                             MemoryPolicies())
    assert (await switched.query(question)).memories[0].id == answer
    assert await memory_runtime.queue.enqueue_all(new_model.model, force=False) == 0, "nothing left to reindex"
    await memory_runtime.pool.execute("DELETE FROM memory_embeddings WHERE model = $1", new_model.model)


async def test_the_reindex_command_shows_progress_and_leaves_every_item_embedded(
    isolated_database: str, worker_config: Path,
) -> None:
    pool = await open_memory_pool(isolated_database, size=2)
    try:
        fresh = await store_directly(pool, [f"note {i} for the reindex command" for i in range(5)])
        env = {**os.environ, "DAARION_MEMORY_CONFIG": str(worker_config), "DATABASE_URL": isolated_database}
        done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "apps.memory.cli", "reindex"],
                                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        assert re.search(r"reindex \[#+\] 5/5 100\.0%", done.stderr), done.stderr[-2000:]
        embedded = await pool.fetchval("SELECT count(*) FROM memory_embeddings WHERE model = $1", MINILM)
        assert embedded == len(fresh)
        status = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "apps.memory.cli", "status"],
                                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert status.returncode == 0, status.stderr[-2000:]
        assert "items: mid 5 (5 chunks)" in status.stdout and f"{MINILM}: 5" in status.stdout
    finally:
        await pool.close()


@pytest.fixture
def served_with_worker(database_url: str, test_embedder: LabelledEmbedder) -> Iterator[httpx.Client]:
    settings = memory_settings(indexing={"enabled": True, "workers": 1})
    with serve_in_thread(create_app(settings, embedder=test_embedder)) as base, httpx.Client(base_url=base) as client:
        yield client


def test_the_service_indexes_in_the_background_and_reports_the_backlog_in_metrics(
    served_with_worker: httpx.Client,
) -> None:
    response = served_with_worker.post("/internal/agent-memory/store", json={
        "agent_id": "sofia", "microdao_id": unique("bg"), "content": {"text": "The rooftop garden needs watering"}})
    memory_id = response.json()["id"]
    wait_until(lambda: served_with_worker.get(f"/internal/agent-memory/{memory_id}").json()["indexed_chunks"] == 1,
               timeout=30)
    wait_until(lambda: "memory_indexed_items_total" in _metric_lines(served_with_worker), timeout=10)
    metrics = _metric_lines(served_with_worker)
    assert any(line.startswith("memory_index_backlog{model=") for line in metrics.splitlines())
    assert any(line.startswith("memory_index_backlog_age_seconds{model=") for line in metrics.splitlines())


def _metric_lines(client: httpx.Client) -> str:
    return "\n".join(line for line in client.get("/metrics").text.splitlines()
                     if line.startswith("memory_") and not line.startswith("memory_indexed_items_created"))
