"""The LLM proxy scaled out: req/s of one worker process against two (`daarion serve llm-proxy --workers N`)
on one database, measured in alternating rounds in the same run; medians and their ratio.

Both proxies run at once on their own ports (the idle one costs next to nothing) against one mock upstream
and the same PostgreSQL; nothing is pinned. On a machine of 2 cores the load generator, the mock upstream and
PostgreSQL share the cores with the proxy's workers, so the ratio shows what a second process buys there,
not the ceiling of a machine with cores to spare.

    python bench/scale_out.py                 # 3 rounds of 4 s at 32 connections
    python bench/scale_out.py --rounds 5 --seconds 6 --concurrency 64
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.keys import bench_key
from bench.loadgen import run_load
from bench.proxy_overhead import ROOT, bodies, start_proxy
from infra.platform import db, migrations

PORTS = {"mock": 17920, 1: 17921, 2: 17922}


def tree_cpu_seconds(process: psutil.Process) -> float:
    """CPU time of a `daarion serve` process and its workers (uvicorn forks them)."""
    total = 0.0
    for member in (process, *process.children(recursive=True)):
        try:
            times = member.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    os.environ.setdefault("DAARION_DATA_DIR", str(ROOT / ".daarion" / "bench-pgdata"))
    url = db.database_url()
    migrations.upgrade(url)
    env = {**os.environ, "DATABASE_URL": url}
    key = asyncio.run(bench_key(url, "agent:bench", "microdao:bench"))
    upstream = f"http://127.0.0.1:{PORTS['mock']}"
    _, body = bodies(stream=False)
    children: list[subprocess.Popen[bytes]] = []
    rates: dict[int, list[float]] = {1: [], 2: []}
    cores: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            children.append(subprocess.Popen([sys.executable, str(ROOT / "bench" / "mock_upstream.py"), "--port",
                                              str(PORTS["mock"])], cwd=ROOT))
            time.sleep(1.0)
            for workers in (1, 2):
                process, start_s = start_proxy(PORTS[workers], upstream, "group_commit", Path(tmp), env,
                                               workers=workers, pin=False)
                children.append(process)
                print(f"proxy with {workers} worker process(es) ready in {start_s:.1f} s", flush=True)
            print(f"{args.rounds} rounds of {args.seconds:g} s at {args.concurrency} connections, non-streaming "
                  f"chat through /internal/llm/proxy (durable ledger, exact limits and budgets)")
            proxies = {workers: psutil.Process(child.pid) for workers, child in zip((1, 2), children[1:], strict=True)}
            for round_no in range(1, args.rounds + 1):
                for workers in (1, 2):
                    before, started = tree_cpu_seconds(proxies[workers]), time.perf_counter()
                    result = asyncio.run(run_load(f"http://127.0.0.1:{PORTS[workers]}/internal/llm/proxy", body,
                                                  args.concurrency, args.seconds, warmup=0,
                                                  headers={"authorization": f"Bearer {key}"}))
                    busy = tree_cpu_seconds(proxies[workers]) - before
                    rates[workers].append(result.rps)
                    cores[workers].append(busy / (time.perf_counter() - started))
                    print(f"  round {round_no}: {workers} worker(s) {result.rps:7.0f} req/s  p50 {result.p50_ms:6.2f} ms"
                          f"  p99 {result.p99_ms:6.2f} ms  errors {result.errors}  proxy busy {cores[workers][-1]:.2f} "
                          f"cores, {busy / max(result.requests, 1) * 1000:.2f} ms CPU/request", flush=True)
        finally:
            for child in reversed(children):
                if child.poll() is None:
                    child.terminate()
                    child.wait(30)
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    print(f"\nmedian req/s: 1 worker {one:.0f}, 2 workers {two:.0f}; ratio {two / one:.2f} "
          f"(on {os.cpu_count()} cores shared with the load generator, the mock upstream and PostgreSQL)")
    print(f"median cores the proxy kept busy: 1 worker {statistics.median(cores[1]):.2f}, "
          f"2 workers {statistics.median(cores[2]):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
