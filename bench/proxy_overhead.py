"""What the LLM proxy adds on top of calling the upstream directly.

A fast mock upstream runs in its own process; the proxy runs pinned to one core (durable group-commit
ledger and exact Postgres rate limits on); the load generator and the mock share the other core. Each
scenario is measured directly against the mock and through the proxy in the same run, at several
concurrency levels, non-streaming and streaming. Then the proxy is restarted with one ledger
transaction per request, for comparison.

    python bench/proxy_overhead.py            # full run (about 2 minutes)
    python bench/proxy_overhead.py --quick    # fewer levels, shorter runs
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.keys import bench_key
from bench.loadgen import Result, run_load
from infra.platform import db, migrations

ROOT = Path(__file__).resolve().parent.parent
TARGET_ADDED_P50_MS = 2.0
TARGET_ADDED_P99_MS = 10.0
MODERATE_CONCURRENCY = 8


def pinned(core: int, command: list[str]) -> list[str]:
    return ["taskset", "-c", str(core), *command] if os.cpu_count() and os.cpu_count() > 1 else command  # type: ignore[operator]


def wait_ready(url: str, timeout: float = 90) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} never became ready")


def start_proxy(
    port: int, upstream: str, ledger_mode: str, workdir: Path, env: dict[str, str], tree: Path = ROOT,
    workers: int = 1, pin: bool = True,
) -> tuple[subprocess.Popen[bytes], float]:
    """`tree`: the checkout whose proxy runs (bench/proxy_versions.py starts another revision's); `pin`: to
    core 0, away from the load generator (bench/scale_out.py gives its proxies the whole machine)."""
    config = {
        "providers": {"upstream": {"kind": "openai_compatible", "base_url": upstream + "/v1"}},
        "models": {"bench": {"targets": [{"provider": "upstream", "model": "bench-model", "timeout_s": 30}]}},
        "prices": {"bench-model": {"input_per_1m": "0.4", "output_per_1m": "1.6"}},
        "limits": {"default": {"requests_per_minute": 100_000_000, "tokens_per_minute": 2_000_000_000}},
        # Budgets on, so every admission takes the reservation path it takes in production.
        "budgets": {"agents": {"agent:bench": "1000000"}, "microdaos": {"microdao:bench": "1000000"}},
        "ledger": {"mode": ledger_mode},
    }
    path = workdir / f"proxy-{ledger_mode}.yaml"
    path.write_text(yaml.safe_dump(config))
    command = [sys.executable, "-m", "apps.cli", "serve", "llm-proxy", "--port", str(port), "--log-level", "warning",
               "--workers", str(workers)]
    process = subprocess.Popen(pinned(0, command) if pin else command,
                               env={**env, "DAARION_LLM_PROXY_CONFIG": str(path)}, cwd=tree)
    return process, wait_ready(f"http://127.0.0.1:{port}/readyz")


def prepare_run() -> dict[str, str]:
    """Moves this process (the load generator) to core 1, leaving core 0 to the proxy, and migrates the
    bench database; returns the environment the proxy processes start with."""
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    os.environ.setdefault("DAARION_DATA_DIR", str(ROOT / ".daarion" / "bench-pgdata"))
    url = db.database_url()
    migrations.upgrade(url)
    return {**os.environ, "DATABASE_URL": url}


def bodies(stream: bool) -> tuple[bytes, bytes]:
    messages = [{"role": "system", "content": "You are Sofia."}, {"role": "user", "content": "What is new in Project X?"}]
    direct = {"model": "bench-model", "messages": messages, "max_tokens": 64, "stream": stream}
    proxied = {"model": "bench", "messages": messages, "max_tokens": 64, "stream": stream,
               "metadata": {"agent_id": "agent:bench", "microdao_id": "microdao:bench"}}
    return json.dumps(direct).encode(), json.dumps(proxied).encode()


def row(label: str, c: int, direct: Result, proxied: Result) -> str:
    return (f"{label:<11}{c:>4}  {direct.p50_ms:7.2f} {direct.p99_ms:7.2f} {direct.rps:8.0f}   "
            f"{proxied.p50_ms:7.2f} {proxied.p99_ms:7.2f} {proxied.rps:8.0f}   "
            f"{proxied.p50_ms - direct.p50_ms:+7.2f} {proxied.p99_ms - direct.p99_ms:+7.2f}  "
            f"{proxied.rps / direct.rps:5.2f}  {proxied.errors:>4}")


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


async def measure(upstream: str, proxy: str, proxy_pid: int, levels: list[int], seconds: float,
                  streams: list[bool], key: str) -> dict[tuple[bool, int], tuple[Result, Result]]:
    """Also prints the proxy's CPU per request: unlike req/s, it does not depend on what else the
    machine is running, so it gives the proxy's capacity on one core (1000 / cpu ms)."""
    results = {}
    process = psutil.Process(proxy_pid)
    for stream in streams:
        direct_body, proxy_body = bodies(stream)
        for c in levels:
            direct = await run_load(upstream + "/v1/chat/completions", direct_body, c, seconds)
            before = cpu_seconds(process)
            proxied = await run_load(proxy + "/internal/llm/proxy", proxy_body, c, seconds, warmup=0,
                                     headers={"authorization": f"Bearer {key}"})
            cpu_ms = (cpu_seconds(process) - before) / max(proxied.requests, 1) * 1000
            results[(stream, c)] = (direct, proxied)
            print(row("stream" if stream else "json", c, direct, proxied) + f"  {cpu_ms:6.3f}", flush=True)
    return results


def main() -> int:
    from bench.auth_cost import TARGET_VERIFY_MS, compare, verification_ms

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--auth-rounds", type=int, default=3, help="alternating rounds with and without auth")
    args = parser.parse_args()
    levels = [1, 8, 32] if args.quick else [1, 8, 32, 64]
    seconds = 2.0 if args.quick else 4.0
    env = prepare_run()
    key = asyncio.run(bench_key(env["DATABASE_URL"], "agent:bench", "microdao:bench"))
    ports = {"mock": 17900, "proxy": 17907}
    upstream, proxy = (f"http://127.0.0.1:{ports['mock']}", f"http://127.0.0.1:{ports['proxy']}")
    children: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            mock = subprocess.Popen(pinned(1, [sys.executable, str(ROOT / "bench" / "mock_upstream.py"),
                                               "--port", str(ports["mock"])]), cwd=ROOT)
            children.append(mock)
            time.sleep(1.0)
            process, start_s = start_proxy(ports["proxy"], upstream, "group_commit", Path(tmp), env)
            children.append(process)
            print(f"proxy ready in {start_s:.2f} s; pinned to core 0, durable group-commit ledger, exact limits and budgets, API keys")
            print("           c   direct p50     p99    req/s   proxy p50     p99    req/s   +p50 ms +p99 ms  ratio  errs"
                  "  cpu ms/req")
            results = asyncio.run(measure(upstream, proxy, process.pid, levels, seconds, [False, True], key))
            rss = psutil.Process(process.pid).memory_info().rss / 2**20
            process.terminate()
            process.wait(30)
            process, _ = start_proxy(ports["proxy"], upstream, "per_request", Path(tmp), env)
            children.append(process)
            print("\nsame, with one ledger transaction per request (no group commit):")
            per_request = asyncio.run(measure(upstream, proxy, process.pid, [MODERATE_CONCURRENCY, levels[-1]],
                                              seconds, [False], key))
            process.terminate()
            process.wait(30)
            verify_ms = verification_ms()
            print(f"\ncredentials: one verification costs {verify_ms:.4f} ms CPU in-process "
                  f"(target <= {TARGET_VERIFY_MS}); the proxy with and without verification, alternating:")
            auth_met = compare(ports["proxy"], upstream, Path(tmp), env, key, args.auth_rounds, seconds,
                               [MODERATE_CONCURRENCY, levels[-1]])
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
                    child.wait(30)
    direct, proxied = results[(False, MODERATE_CONCURRENCY)]
    added_p50 = proxied.p50_ms - direct.p50_ms
    added_p99 = proxied.p99_ms - direct.p99_ms
    best = max(r[1].rps for r in results.values())
    group_peak = results[(False, levels[-1])][1].rps
    single_peak = per_request[(False, levels[-1])][1].rps
    print(f"\nproxy RSS after the run: {rss:.0f} MiB")
    print(f"added latency at c={MODERATE_CONCURRENCY}: p50 {added_p50:+.2f} ms (target <= {TARGET_ADDED_P50_MS}), "
          f"p99 {added_p99:+.2f} ms (target <= {TARGET_ADDED_P99_MS}) -> "
          f"{'MET' if added_p50 <= TARGET_ADDED_P50_MS and added_p99 <= TARGET_ADDED_P99_MS else 'NOT MET'}")
    print(f"best throughput through the proxy on one core: {best:.0f} req/s "
          f"(target >= 1000; LiteLLM peer figure here ~55 req/s)")
    print(f"group commit vs one transaction per request at c={levels[-1]}: {group_peak:.0f} vs {single_peak:.0f} req/s")
    print(f"credential verification: {verify_ms:.4f} ms CPU per request, req/s with auth within 10% of without -> "
          f"{'MET' if verify_ms <= TARGET_VERIFY_MS and auth_met else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
