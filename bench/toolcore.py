"""What Toolcore adds to a tool call, against calling the projects service directly, in the same run.

The projects service (Postgres-backed) serves `GET .../projects/prj_project_x/tasks?limit=5`; the same
read goes once straight to it and once as `tasks.list` through `POST /internal/tools/call` (permission
check, JSON Schema validation, SSRF-guarded HTTP call, durable group-commit ledger entry, metrics).
With --pin, Toolcore gets core 0 and the projects service and load generator core 1; by default the OS
schedules all of them (better on a machine other work is using).

    python bench/toolcore.py            # c = 1, 8, 32; 6 s per side per level, in 3 interleaved rounds
    python bench/toolcore.py --quick    # c = 1, 8; 3 s per side per level
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.keys import bench_key
from bench.loadgen import Result, _read_response
from bench.proxy_overhead import pinned, wait_ready
from infra.platform import db, migrations

ROOT = Path(__file__).resolve().parent.parent
TARGET_ADDED_P50_MS = 1.0
PORTS = {"projects": 17920, "toolcore": 17919}
TASKS_PATH = "/microdaos/microdao:7/projects/prj_project_x/tasks?limit=5"
CALL = {"tool_id": "tasks.list", "agent_id": "agent:sofia", "microdao_id": "microdao:7",
        "args": {"project_id": "prj_project_x", "limit": 5}}


async def run_requests(method: str, url: str, body: bytes, key: str, concurrency: int, seconds: float,
                       warmup: float = 0.5) -> Result:
    """Keep-alive HTTP/1.1 load on raw streams (bench/loadgen.py's reader; any method)."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = (f"{method} {target} HTTP/1.1\r\nhost: {parts.netloc}\r\ncontent-type: application/json\r\n"
               f"authorization: Bearer {key}\r\ncontent-length: {len(body)}\r\n\r\n").encode() + body
    latencies: list[float] = []
    errors = 0
    measure_from = time.perf_counter() + warmup
    stop_at = measure_from + seconds

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while (sent := time.perf_counter()) < stop_at:
                writer.write(request)
                status = await _read_response(reader)
                if sent >= measure_from:
                    latencies.append(time.perf_counter() - sent)
                    errors += status != 200
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    latencies.sort()
    return Result(len(latencies), errors, seconds, statistics.median(latencies) * 1000,
                  latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000)


def start(service: str, core: int | None, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "apps.cli", "serve", service, "--port", str(PORTS[service]),
               "--log-level", "warning"]
    process = subprocess.Popen(command if core is None else pinned(core, command), env=env, cwd=ROOT)
    wait_ready(f"http://127.0.0.1:{PORTS[service]}/readyz")
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    started = time.monotonic()
    process.terminate()
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        print(f"pid {process.pid} ignored SIGTERM for 60 s; killing it", flush=True)
        process.kill()
        process.wait(10)
    if time.monotonic() - started > 5:
        print(f"pid {process.pid} took {time.monotonic() - started:.1f} s to stop", flush=True)


def median_of(results: list[Result]) -> Result:
    """Rounds are interleaved (direct, through, direct, ...) so drift on a shared machine hits both sides."""
    return Result(sum(r.requests for r in results), sum(r.errors for r in results), sum(r.seconds for r in results),
                  statistics.median(r.p50_ms for r in results), statistics.median(r.p99_ms for r in results))


def cpu_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def measure(levels: list[int], seconds: float, rounds: int, toolcore_pid: int,
                  key: str) -> list[tuple[int, Result, Result]]:
    """Latency and throughput per level, plus Toolcore's own CPU per call (steadier than wall time when
    other work shares the machine)."""
    projects, toolcore = (f"http://127.0.0.1:{PORTS[name]}" for name in ("projects", "toolcore"))
    body = json.dumps(CALL).encode()
    process = psutil.Process(toolcore_pid)
    await run_requests("GET", projects + TASKS_PATH, b"", key, 4, 1.0)  # warm both paths and pools
    await run_requests("POST", toolcore + "/internal/tools/call", body, key, 4, 1.0)
    rows = []
    for c in levels:
        directs, throughs, cpu = [], [], 0.0
        for _ in range(rounds):
            directs.append(await run_requests("GET", projects + TASKS_PATH, b"", key, c, seconds / rounds))
            await run_requests("POST", toolcore + "/internal/tools/call", body, key, c, 0.3, warmup=0)  # not counted
            before = cpu_s(process)
            throughs.append(await run_requests("POST", toolcore + "/internal/tools/call", body, key, c, seconds / rounds,
                                               warmup=0))
            cpu += cpu_s(process) - before
        direct, through = median_of(directs), median_of(throughs)
        rows.append((c, direct, through))
        print(f"{c:>4}  {direct.p50_ms:7.2f} {direct.p99_ms:7.2f} {direct.rps:8.0f}   {through.p50_ms:7.2f} "
              f"{through.p99_ms:7.2f} {through.rps:8.0f}   {through.p50_ms - direct.p50_ms:+7.2f} "
              f"{through.p99_ms - direct.p99_ms:+7.2f}  {cpu / through.requests * 1000:7.2f}  "
              f"{direct.errors + through.errors:>4}", flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--pin", action="store_true", help="Toolcore on core 0, the rest on core 1 (only on an "
                        "otherwise idle machine: a busy core 0 then stalls Toolcore)")
    args = parser.parse_args()
    levels, seconds = ([1, 8], 3.0) if args.quick else ([1, 8, 32], 6.0)
    toolcore_core, other_core = (0, 1) if args.pin and (os.cpu_count() or 1) > 1 else (None, None)
    if other_core is not None:
        os.sched_setaffinity(0, {other_core})
    os.environ.setdefault("DAARION_DATA_DIR", str(ROOT / ".daarion" / "bench-toolcore-pgdata"))
    url = db.database_url()
    migrations.upgrade(url)
    key = asyncio.run(bench_key(url, "agent:sofia", "microdao:7"))
    env = {**os.environ, "DATABASE_URL": url, "DAARION_PROJECTS_URL": f"http://127.0.0.1:{PORTS['projects']}"}
    env.pop("DAARION_TOOLS_CONFIG", None)  # the shipped config/tools.yaml
    children: list[subprocess.Popen[bytes]] = []
    header = "   c   direct p50     p99    req/s   toolcore p50   p99    req/s   +p50 ms +p99 ms  cpu ms  errs"
    try:
        children.append(start("projects", other_core, env))
        children.append(start("toolcore", toolcore_core, env))
        print(f"load average before: {os.getloadavg()[0]:.2f} (other work on this machine skews wall times)")
        print("tasks.list (5 recent tasks of Project X): direct to the projects service vs through Toolcore;")
        print("cpu ms = Toolcore's own CPU per call")
        print(f"ledger entry committed just after the response (default)\n{header}")
        rows = asyncio.run(measure(levels, seconds, 3, children[-1].pid, key))
        stop(children.pop())
        children.append(start("toolcore", toolcore_core, {**env, "DAARION_TOOLCORE_LEDGER_WAIT": "1"}))
        print(f"\nresponse waits for the ledger commit (DAARION_TOOLCORE_LEDGER_WAIT=1)\n{header}")
        asyncio.run(measure(levels[:2], seconds, 3, children[-1].pid, key))
    finally:
        for child in children:
            stop(child)
    _, direct, through = rows[0]
    added = through.p50_ms - direct.p50_ms
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    print(f"added p50 at c=1: {added:+.2f} ms (target <= {TARGET_ADDED_P50_MS}) -> "
          f"{'MET' if added <= TARGET_ADDED_P50_MS else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
