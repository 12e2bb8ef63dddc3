"""What checking credentials costs the LLM proxy: per request in-process, and in req/s and CPU on one core
against the same proxy with verification taken out (bench/trusting_proxy.py), in alternating rounds."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.proxy_overhead import ROOT, pinned, start_proxy, wait_ready
from bench.proxy_versions import one_round
from domain.identity.authentication import KeyIndex
from domain.identity.keys import AgentRecord, KeyRecord, digest, new_key
from domain.identity.scopes import AGENT_SCOPES

TARGET_VERIFY_MS = 0.05
TARGET_RPS_RATIO = 0.90


def verification_ms(keys: int = 1000, calls: int = 200_000) -> float:
    """CPU ms of one verification (hash, lookup, compare, validity) in an index of `keys` keys."""
    index = KeyIndex()
    records, presented = [], []
    for n in range(keys):
        key_id, key = new_key()
        records.append(KeyRecord(key_id, digest(key), f"agent:{n}", "microdao:bench", AGENT_SCOPES))
        presented.append(key)
    index.apply(records, [AgentRecord(f"agent:{n}", "microdao:bench") for n in range(keys)])
    now = datetime.now(UTC)
    started = time.process_time()
    for n in range(calls):
        index.authenticate(presented[n % keys], now)
    return (time.process_time() - started) / calls * 1000


def start_trusting(port: int, workdir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """With the YAML the real proxy's start wrote in `workdir`, so both variants route, price and limit alike."""
    process = subprocess.Popen(
        pinned(0, [sys.executable, "-m", "bench.trusting_proxy", "--port", str(port), "--log-level", "warning"]),
        env={**env, "DAARION_LLM_PROXY_CONFIG": str(workdir / "proxy-group_commit.yaml")}, cwd=ROOT,
    )
    wait_ready(f"http://127.0.0.1:{port}/readyz")
    return process


def compare(port: int, upstream: str, workdir: Path, env: dict[str, str], key: str, rounds: int, seconds: float,
            levels: list[int]) -> bool:
    proxy = f"http://127.0.0.1:{port}"
    runs: dict[str, list[dict[int, tuple[float, float]]]] = {"verified": [], "trusting": []}
    for number in range(rounds):
        for variant in ("trusting", "verified"):
            if variant == "verified":
                process, _ = start_proxy(port, upstream, "group_commit", workdir, env)
            else:
                process = start_trusting(port, workdir, env)
            try:
                figures = asyncio.run(one_round(proxy, process.pid, levels, seconds, key))
            finally:
                process.terminate()
                process.wait(30)
            runs[variant].append(figures)
            print(f"  round {number + 1} {variant:<9} " + "  ".join(
                f"c={c}: {rps:6.0f} req/s {cpu:6.3f} ms cpu" for c, (rps, cpu) in figures.items()), flush=True)
    met = True
    for c in levels:
        rps = {v: statistics.median(r[c][0] for r in runs[v]) for v in runs}
        cpu = {v: statistics.median(r[c][1] for r in runs[v]) for v in runs}
        ratio = rps["verified"] / rps["trusting"]
        met &= ratio >= TARGET_RPS_RATIO
        print(f"c={c}: with auth {rps['verified']:.0f} req/s, without {rps['trusting']:.0f} req/s -> ratio "
              f"{ratio:.3f} (target >= {TARGET_RPS_RATIO}); CPU per request {cpu['verified']:.3f} vs "
              f"{cpu['trusting']:.3f} ms ({cpu['verified'] - cpu['trusting']:+.3f} ms)")
    return met
