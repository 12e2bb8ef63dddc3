"""Indexing by separate processes on PostgreSQL: worker processes killed mid-batch, and the reindex command."""

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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from domain.ledger.events import MemoryIndexed
from domain.memory.chunking import ChunkingPolicy
from domain.memory.commands import StoreMemory, to_memory
from domain.memory.model import MemoryContent, MemoryLimits, Scope
from infra.ledger.event_store import open_ledger
from infra.memory.pg_memory_store import PgMemoryStore
from infra.memory.pg_pool import open_memory_pool
from tests.memory_support import isolated_database_fixture, ledger_events  # noqa: F401 - fixtures
from tests.support import REPO

ROOT = REPO
MINILM = "sentence-transformers/all-MiniLM-L6-v2"  # what worker processes on the shipped config embed with


async def store_directly(pool: Any, texts: Sequence[str]) -> list[str]:
    """Memories queued for the configured (real) model, in a database no test runtime is attached to."""
    store = PgMemoryStore(pool, 384)
    commands = [StoreMemory(MemoryContent(text=text), kind="fact") for text in texts]
    return [(await store.add_memory(to_memory(command, Scope("m", "sofia"), MemoryLimits(), ChunkingPolicy()),
                                    MINILM)).id
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
            victim = first.wait_for(r"worker (\S+) claimed \d+ jobs", timeout=60).group(1)
            first.wait_for(r"indexed \S")  # a batch of its own committed, then
            # ...as soon as it holds its next batch (read from the queue: a worker may claim the next batch
            # before it logs the last one, so its log lines cannot say when it is mid-batch)...
            claimed_by = time.monotonic() + 60
            while not await pool.fetchval("SELECT count(*) FROM memory_index_jobs WHERE locked_by = $1", victim):
                assert time.monotonic() < claimed_by, "the first worker never claimed a second batch"
                await asyncio.sleep(0.02)
            first.process.send_signal(signal.SIGKILL)  # ...it is killed in the middle of embedding it
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
