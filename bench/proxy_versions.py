"""This checkout's LLM proxy against another revision's, in the same run.

Both proxies serve the same load from the same mock upstream and database, in alternating rounds
(base, this, base, this, ...), each round a fresh process pinned to core 0, so drift and noise on this
shared machine fall on both alike. Printed per round and as medians: req/s and the proxy's CPU ms per
request (the steadier figure: it does not depend on what else runs) at each concurrency level.

    python bench/proxy_versions.py --baseline 3d51488          # 5 rounds, about 3 minutes
    python bench/proxy_versions.py --baseline HEAD~3 --rounds 3 --seconds 2
"""

from __future__ import annotations

import argparse
import asyncio
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
from bench.proxy_overhead import ROOT, bodies, cpu_seconds, pinned, prepare_run, start_proxy

PORTS = {"mock": 17920, "proxy": 17927}


async def one_round(proxy: str, pid: int, levels: list[int], seconds: float, key: str) -> dict[int, tuple[float, float]]:
    """c -> (req/s, proxy CPU ms per request), calling as agent:bench with `key` (older revisions ignore it)."""
    _, body = bodies(stream=False)
    headers = {"authorization": f"Bearer {key}"}
    process = psutil.Process(pid)
    await run_load(proxy + "/internal/llm/proxy", body, levels[0], 1.0, headers=headers)  # warm-up: imports, pools
    figures = {}
    for c in levels:
        before = cpu_seconds(process)
        result = await run_load(proxy + "/internal/llm/proxy", body, c, seconds, warmup=0, headers=headers)
        figures[c] = (result.rps, (cpu_seconds(process) - before) / max(result.requests, 1) * 1000)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="the git revision to compare with")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    levels = [8, 32]
    env = prepare_run()
    key = asyncio.run(bench_key(env["DATABASE_URL"], "agent:bench", "microdao:bench"))
    upstream, proxy = f"http://127.0.0.1:{PORTS['mock']}", f"http://127.0.0.1:{PORTS['proxy']}"
    runs: dict[str, list[dict[int, tuple[float, float]]]] = {"base": [], "this": []}
    with tempfile.TemporaryDirectory() as tmp:
        base_tree = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(base_tree), args.baseline], cwd=ROOT, check=True)
        mock = subprocess.Popen(pinned(1, [sys.executable, str(ROOT / "bench" / "mock_upstream.py"),
                                           "--port", str(PORTS["mock"])]), cwd=ROOT)
        try:
            time.sleep(1.0)
            for round_no in range(1, args.rounds + 1):
                for name, tree in (("base", base_tree), ("this", ROOT)):
                    process, _ = start_proxy(PORTS["proxy"], upstream, "group_commit", Path(tmp), env, tree)
                    try:
                        figures = asyncio.run(one_round(proxy, process.pid, levels, args.seconds, key))
                    finally:
                        process.terminate()
                        process.wait(30)
                    runs[name].append(figures)
                    cells = "  ".join(f"c={c}: {rps:6.0f} req/s {cpu:5.2f} cpu ms" for c, (rps, cpu) in figures.items())
                    print(f"round {round_no} {name:<4}  {cells}", flush=True)
        finally:
            mock.terminate()
            mock.wait(30)
            subprocess.run(["git", "worktree", "remove", "--force", str(base_tree)], cwd=ROOT, check=False)
    print(f"\nmedians over {args.rounds} rounds (base = {args.baseline}):")
    for c in levels:
        base_rps = statistics.median(r[c][0] for r in runs["base"])
        this_rps = statistics.median(r[c][0] for r in runs["this"])
        base_cpu = statistics.median(r[c][1] for r in runs["base"])
        this_cpu = statistics.median(r[c][1] for r in runs["this"])
        print(f"  c={c:<3} req/s base {base_rps:6.0f}  this {this_rps:6.0f}  ratio {this_rps / base_rps:4.2f}   "
              f"cpu ms/req base {base_cpu:5.2f}  this {this_cpu:5.2f}  ratio {this_cpu / base_cpu:4.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
