"""The phases of one memory benchmark run, each timed and printed: raw model throughput, loading, indexing,
query latency, where a query's time goes, and HNSW recall against brute force."""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from typing import Any

import numpy as np


class Bench:
    """The phases of one run, on one microDAO with one agent (every query searches the whole set). Stores and
    queries act for that agent (a tenant transaction each, as in the service); recall reads as the owner."""

    def __init__(self, runtime: Any, microdao: str, questions: list[str]) -> None:
        from domain.memory.model import Scope

        self.runtime, self.microdao, self.questions = runtime, microdao, questions
        self.scope = Scope(microdao, "agent:bench")

    def query(self, text: str, limit: int = 10) -> Any:
        from domain.memory.commands import QueryMemory

        return QueryMemory(text, limit=limit)

    async def raw_model(self, sample: list[str], batch: int) -> float:
        started = time.perf_counter()
        for start in range(0, len(sample), batch):
            await self.runtime.embedder.embed(sample[start: start + batch])
        rate = len(sample) / (time.perf_counter() - started)
        print(f"raw model       {rate:9.1f} texts/s   ({len(sample)} texts, embed() alone)")
        return rate

    async def load(self, texts: list[str], concurrency: int) -> None:
        from domain.memory.commands import StoreMemory
        from domain.memory.model import MemoryContent

        started, semaphore = time.perf_counter(), asyncio.Semaphore(concurrency)

        async def store(text: str) -> None:
            async with semaphore:
                await self.runtime.service.store(self.scope, "bench", StoreMemory(MemoryContent(text=text), kind="fact"))

        for start in range(0, len(texts), 2000):
            await asyncio.gather(*(store(text) for text in texts[start: start + 2000]))
            _progress("stored", min(start + 2000, len(texts)), len(texts), started)
        rate = len(texts) / (time.perf_counter() - started)
        print(file=sys.stderr)
        print(f"store           {rate:9.1f} memories/s (durable + ledger, {concurrency} concurrent)")

    async def index(self, total: int) -> float:
        started, indexed = time.perf_counter(), 0

        def advance(report: Any) -> None:
            nonlocal indexed
            indexed += report.indexed
            if indexed % 2048 < report.indexed:
                _progress("indexed", indexed, total, started)

        await self.runtime.worker(on_batch=advance).drain()  # the service's worker loop, pipelined
        print(file=sys.stderr)
        return indexed / (time.perf_counter() - started)

    async def queries(self) -> float:
        service = self.runtime.service
        for text in self.questions[:10]:  # warm the pool's connections and prepared statements
            await service.query(self.scope, self.query(text))
        latencies = []
        for text in self.questions:
            started = time.perf_counter()
            await service.query(self.scope, self.query(text))
            latencies.append((time.perf_counter() - started) * 1000)
        p50, p99 = statistics.median(latencies), float(np.percentile(latencies, 99))
        print(f"query           p50 {p50:6.1f} ms  p99 {p99:6.1f} ms (MemoryService.query, embedding included)")
        return p50

    async def legs(self) -> None:
        """Where a query's time goes; the service runs the full-text leg beside the embedding."""
        from domain.memory.commands import to_search

        runtime = self.runtime
        times: dict[str, list[float]] = {"query embedding": [], "vector leg": [], "full-text leg": []}
        per_leg = runtime.settings.ranking.candidates_per_leg
        for text in self.questions:
            search = to_search(self.query(text), self.scope, runtime.settings.limits)
            started = time.perf_counter()
            [vector] = await runtime.embedder.embed([text])
            times["query embedding"].append(time.perf_counter() - started)
            started = time.perf_counter()
            await runtime.store.vector_search(search, vector, runtime.embedder.model, per_leg)
            times["vector leg"].append(time.perf_counter() - started)
            started = time.perf_counter()
            await runtime.store.text_search(search, per_leg)
            times["full-text leg"].append(time.perf_counter() - started)
        print("  of which      " + ", ".join(f"{name} p50 {statistics.median(values) * 1000:.1f} ms"
                                            for name, values in times.items()))

    async def recall(self, ef_search: int) -> float:
        """HNSW top-10 of the vector leg against exact top-10 by brute force over every stored vector."""
        from domain.memory.commands import to_search
        from infra.memory.pg_search_sql import vector_leg_sql

        runtime, model = self.runtime, self.runtime.embedder.model
        vectors = await runtime.embedder.embed(self.questions)
        rows = await runtime.pool.fetch("SELECT chunk_id, embedding FROM memory_embeddings WHERE microdao_id = $1 "
                                        "AND model = $2", self.microdao, model)
        ids = np.array([row["chunk_id"] for row in rows])
        matrix = np.stack([row["embedding"].to_numpy() for row in rows])
        overlaps, latencies, plan = [], [], ""
        async with runtime.pool.acquire() as connection:
            await connection.execute(f"SET hnsw.ef_search = {int(ef_search)}")
            for text, vector in zip(self.questions, vectors, strict=True):
                search = to_search(self.query(text), self.scope, runtime.settings.limits)
                sql, params = vector_leg_sql(search, vector, model, runtime.embedder.dimensions, 10)
                plan = plan or "\n".join(r[0] for r in await connection.fetch("EXPLAIN " + sql, *params))
                started = time.perf_counter()
                approximate = {row["chunk_id"] for row in await connection.fetch(sql, *params)}
                latencies.append((time.perf_counter() - started) * 1000)
                exact = set(ids[np.argsort(-(matrix @ np.asarray(vector, dtype=np.float32)))[:10]].tolist())
                overlaps.append(len(approximate & exact) / 10)
            await connection.execute(f"SET hnsw.ef_search = {runtime.settings.search.hnsw_ef_search}")
        recall = statistics.mean(overlaps)
        used = "HNSW index" if "hnsw" in plan else "exact scan (planner's choice)"
        print(f"recall@10       {recall:9.3f}   ef_search={ef_search}: vector leg ({used}) vs exact brute force, "
              f"top-10 in {statistics.median(latencies):.1f} ms p50")
        return recall


def _progress(what: str, done: int, total: int, started: float) -> None:
    rate = done / max(time.perf_counter() - started, 1e-9)
    print(f"\r  {what} {done}/{total} ({rate:.0f}/s)", end="", file=sys.stderr, flush=True)
