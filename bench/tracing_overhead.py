"""What tracing costs the LLM proxy: req/s and CPU per request with tracing off, and on (OTLP/HTTP to a local
collector), in the same run.

The mock upstream and a local OTLP collector (bench/otlp_sink.py, which counts what it receives) run in their
own processes on core 1 with the load generator; each round starts a fresh proxy pinned to core 0 in each
configuration, alternating (off, on, off, on ...) so drift on this shared machine falls on both alike. With
`--baseline REV`, that revision's proxy (one from before tracing existed) runs in every round too, so "off"
can be compared with no tracing code at all. Medians of the rounds, and the ratios, are printed last.

    python bench/tracing_overhead.py                              # 5 rounds, about 2 minutes
    python bench/tracing_overhead.py --baseline 3c1024e --rounds 3 --seconds 2
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

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.keys import bench_key
from bench.proxy_overhead import ROOT, pinned, prepare_run, start_proxy
from bench.proxy_versions import one_round

PORTS = {"mock": 17940, "sink": 17941, "proxy": 17947}
LEVELS = [8, 32]
Figures = dict[int, tuple[float, float]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--baseline", help="also run this git revision's proxy (one without tracing) each round")
    args = parser.parse_args()
    env = prepare_run()
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED"):
        env.pop(name, None)
    key = asyncio.run(bench_key(env["DATABASE_URL"], "agent:bench", "microdao:bench"))
    upstream, proxy, sink = (f"http://127.0.0.1:{PORTS[name]}" for name in ("mock", "proxy", "sink"))
    traced = {**env, "OTEL_EXPORTER_OTLP_ENDPOINT": sink}
    runs: dict[str, list[Figures]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        configs = [("off", ROOT, env), ("on", ROOT, traced)]
        if args.baseline:
            base_tree = Path(tmp) / "base"
            subprocess.run(["git", "worktree", "add", "--detach", "-q", str(base_tree), args.baseline], cwd=ROOT,
                           check=True)
            configs.insert(0, ("base", base_tree, env))
        helpers = [subprocess.Popen(pinned(1, [sys.executable, str(ROOT / "bench" / script), "--port",
                                               str(PORTS[name])]), cwd=ROOT)
                   for name, script in (("mock", "mock_upstream.py"), ("sink", "otlp_sink.py"))]
        try:
            time.sleep(1.5)
            print(f"proxy pinned to core 0; load generator, mock upstream and OTLP collector on core 1; "
                  f"{args.seconds:g} s per level")
            for round_no in range(1, args.rounds + 1):
                for name, tree, config_env in configs:
                    process, _ = start_proxy(PORTS["proxy"], upstream, "group_commit", Path(tmp), config_env, tree)
                    try:
                        figures = asyncio.run(one_round(proxy, process.pid, LEVELS, args.seconds, key))
                    finally:
                        process.terminate()  # an exporting proxy sends what it still holds as it stops
                        process.wait(30)
                    runs.setdefault(name, []).append(figures)
                    cells = "  ".join(f"c={c}: {rps:6.0f} req/s {cpu:5.2f} cpu ms" for c, (rps, cpu) in figures.items())
                    print(f"round {round_no} {name:<4}  {cells}", flush=True)
            received = httpx.get(sink + "/stats", timeout=5).json()
        finally:
            for helper in helpers:
                helper.terminate()
                helper.wait(30)
            if args.baseline:
                subprocess.run(["git", "worktree", "remove", "--force", str(Path(tmp) / "base")], cwd=ROOT,
                               check=False)
    print(f"\nthe collector received {received['spans']} spans in {received['exports']} exports "
          f"({received['bytes'] / 2**20:.1f} MiB) from the traced proxies")
    print(f"medians over {args.rounds} rounds" + (f" (base = {args.baseline}, before tracing):" if args.baseline else ":"))
    for c in LEVELS:
        rps = {name: statistics.median(r[c][0] for r in figures) for name, figures in runs.items()}
        cpu = {name: statistics.median(r[c][1] for r in figures) for name, figures in runs.items()}
        cells = "  ".join(f"{name} {rps[name]:6.0f} req/s {cpu[name]:5.2f} cpu ms" for name in runs)
        ratios = f"on/off req/s {rps['on'] / rps['off']:4.2f} cpu {cpu['on'] / cpu['off']:4.2f}"
        if "base" in rps:
            ratios += f"   off/base req/s {rps['off'] / rps['base']:4.2f} cpu {cpu['off'] / cpu['base']:4.2f}"
        print(f"  c={c:<3} {cells}   {ratios}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
