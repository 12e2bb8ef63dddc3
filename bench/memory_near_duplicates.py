"""What the near-duplicate check costs a store, and what it finds: store latency with the check on against
the same stores with it off, in the same run, interleaved; while the model is idle and while an indexing
worker keeps it busy (then the check's time budget bounds what it adds).

    python bench/memory_near_duplicates.py                  # 2000 indexed memories, 200 stores per phase

Real MiniLM, a fresh embedded PostgreSQL (or DATABASE_URL), the real service code (MemoryService.store
with and without NearDuplicates, ledger included), one agent. Half the stored texts are new; the other half
are paraphrases (lower-cased, reworded punctuation) of indexed memories, which the check should merge.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.memory_corpus import memory_text


async def run(args: argparse.Namespace) -> int:
    import msgspec

    from apps.memory.container import open_memory
    from apps.memory.settings import MemorySettings
    from domain.memory.commands import StoreMemory
    from domain.memory.model import MemoryContent, Scope
    from domain.memory.near_duplicates import NearDuplicatePolicy, NearDuplicates
    from domain.memory.service import MemoryPolicies, MemoryService
    from infra.memory.pg_near_duplicates import PgNearDuplicates
    from infra.platform import db, migrations
    from infra.platform.clock import SystemClock

    migrations.upgrade(db.database_url())
    defaults = MemorySettings()
    settings = msgspec.structs.replace(defaults, indexing=msgspec.structs.replace(defaults.indexing, enabled=False))
    rng = random.Random(11)
    scope = Scope("bench-near", "agent:bench")
    async with open_memory(settings) as runtime:
        policies = MemoryPolicies(settings.limits, settings.chunking, settings.ranking)
        near = NearDuplicates(PgNearDuplicates(runtime.pool, runtime.embedder.dimensions), runtime.embedder,
                              NearDuplicatePolicy(args.threshold, args.budget_s))
        services = {
            "off": MemoryService(runtime.store, runtime.embedder, runtime.core.recorder, SystemClock(), policies),
            "on": MemoryService(runtime.store, runtime.embedder, runtime.core.recorder, SystemClock(), policies,
                                near_duplicates=near),
        }

        def fact(text: str) -> StoreMemory:
            return StoreMemory(MemoryContent(text=text), kind="fact")

        indexed = [memory_text(rng, i) for i in range(args.n)]
        await asyncio.gather(*(services["off"].store(scope, "load", fact(text)) for text in indexed))
        await runtime.worker().drain()
        print(f"near-duplicate bench: {args.n} indexed memories, {args.stores} stores per phase and setting, "
              f"threshold {args.threshold}, budget {args.budget_s * 1000:.0f} ms, {os.cpu_count()} CPUs")

        async def phase(name: str, offset: int) -> None:
            latencies: dict[str, list[float]] = {"off": [], "on": []}
            merged = {"new": 0, "paraphrase": 0}
            for i in range(args.stores):
                kind = "new" if i % 2 == 0 else "paraphrase"
                source = indexed[rng.randrange(args.n)]
                text = (memory_text(rng, offset + i) if kind == "new"
                        else source.lower().replace(" (", ", (").rstrip(")") + ")")
                setting = "on" if (i // 2) % 2 == 0 else "off"  # interleaved: the same load for both
                started = time.perf_counter()
                result = await services[setting].store(scope, "bench", fact(text))
                latencies[setting].append((time.perf_counter() - started) * 1000)
                merged[kind] += int(result.merged)
            off, on = _figures(latencies["off"]), _figures(latencies["on"])
            print(f"{name:5} store p50 {off[0]:6.1f} ms off, {on[0]:6.1f} ms on (x{on[0] / off[0]:.2f});  "
                  f"p99 {off[1]:6.1f} off, {on[1]:6.1f} on;  merged with the check on: "
                  f"{merged['paraphrase']} of {args.stores // 4} paraphrases, {merged['new']} of "
                  f"{args.stores // 4} new texts")

        await phase("idle", 1_000_000)
        backlog = [memory_text(rng, 2_000_000 + i) for i in range(args.backlog)]
        await asyncio.gather(*(services["off"].store(scope, "backlog", fact(text)) for text in backlog))
        stop, wake = asyncio.Event(), asyncio.Event()
        worker = asyncio.create_task(runtime.worker().run(stop, wake))
        await asyncio.sleep(0.5)
        await phase("busy", 3_000_000)
        stop.set()
        await worker
    return 0


def _figures(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="indexed memories of the agent (default 2000)")
    parser.add_argument("--stores", type=int, default=200, help="stores per phase, both settings (default 200)")
    parser.add_argument("--backlog", type=int, default=3000, help="memories the busy worker indexes meanwhile")
    parser.add_argument("--threshold", type=float, default=0.95)
    parser.add_argument("--budget-s", type=float, default=0.05)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if os.environ.get("DATABASE_URL"):
        return asyncio.run(run(args))
    with tempfile.TemporaryDirectory(prefix="daarion-bench-") as data_dir:
        os.environ["DAARION_DATA_DIR"] = data_dir  # a fresh embedded server, gone afterwards
        return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())


