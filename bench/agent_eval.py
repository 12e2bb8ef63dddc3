"""The agent evaluation: Sofia of microdao:7 answers 22 scripted turns (Ukrainian and English) on the real
stack, offline, and every reply is scored against the projects service's real data (bench/eval_score.py).

Every service runs as its own process on a fresh embedded database (the seed's projects, tasks and
memories); the LLM proxy has only the local llama.cpp model. One table, one row per configuration:
  smollm2-135m free-full  the offline default before issue 13: the model calls tools and writes the reply,
                          on the agent's full prompt (no `prompt:` block)
  smollm2-135m free       the same on the compact prompt of config/agents.yaml `prompt:`
  smollm2-135m grounded   the new default: the runtime routes, the model decides only unrouted questions,
                          the reply is rendered from tool results and memories (AnswerSettings)
  <gguf> free-full / grounded  with --gguf PATH: a user-supplied model, as DAARION_LOCAL_MODEL runs one

    flock /tmp/daarion-bench.lock python bench/agent_eval.py            # all turns, both configs
    python bench/agent_eval.py --quick --only grounded                  # 9 turns, the new default only
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.agent_turn import issue_sofia_key
from bench.eval_cases import CASES, QUICK
from bench.eval_run import Target, evaluate
from bench.eval_score import TurnScore, table
from bench.proxy_overhead import wait_ready
from infra.platform import db, migrations

ROOT = Path(__file__).resolve().parent.parent
MODES = ("free-full", "free", "grounded")
PORTS = {"projects": 18471, "toolcore": 18472, "memory": 18473, "llm-proxy": 18474, "agent-runtime": 18475}


def url(service: str) -> str:
    return f"http://127.0.0.1:{PORTS[service]}"


def proxy_config(folder: Path, gguf: str | None) -> Path:
    proxy = yaml.safe_load((ROOT / "config" / "llm_proxy.yaml").read_text())
    # Only the local model for chat; the embedding providers (memory's MiniLM) stay as shipped.
    embedding = {target["provider"] for route in (proxy.get("embeddings") or {}).values() for target in route["targets"]}
    proxy["providers"] = {name: provider for name, provider in proxy["providers"].items()
                          if name in embedding and provider.get("kind") == "minilm"}
    proxy["providers"]["llama_cpp"] = {"kind": "llama_cpp", "context_tokens": 2048}
    proxy["embeddings"] = {name: {**route, "targets": [t for t in route["targets"] if t["provider"] in proxy["providers"]]}
                           for name, route in (proxy.get("embeddings") or {}).items()}
    proxy["models"] = {"smollm2-135m": {"targets": [{"provider": "llama_cpp", "model": "smollm2-135m-instruct",
                                                     "timeout_s": 300}]}}
    if gguf:
        proxy["providers"]["user_gguf"] = {"kind": "llama_cpp", "context_tokens": 4096, "model_path": gguf}
        proxy["models"]["user-gguf"] = {"targets": [{"provider": "user_gguf", "model": "user-gguf", "timeout_s": 300}]}
        proxy["prices"]["user-gguf"] = {"input_per_1m": "0", "output_per_1m": "0"}
    proxy["limits"] = {"default": {"requests_per_minute": 100_000, "tokens_per_minute": 100_000_000}}
    proxy["budgets"] = {}
    path = folder / "llm_proxy.yaml"
    path.write_text(yaml.safe_dump(proxy, allow_unicode=True))
    return path


def agents_config(folder: Path, model: str, mode: str) -> Path:
    agents = yaml.safe_load((ROOT / "config" / "agents.yaml").read_text())
    sofia = agents["agents"][0]
    sofia["model"] = model
    sofia.setdefault("answer", {})["mode"] = mode.removesuffix("-full")
    if mode.endswith("-full"):
        sofia.pop("prompt", None)
    agents["services"] = {name.replace("-", "_"): {"base_url": url(name), "timeout_s": 600}
                          for name in ("llm-proxy", "memory", "toolcore")}
    path = folder / f"agents-{model}-{mode}.yaml"
    path.write_text(yaml.safe_dump(agents, allow_unicode=True))
    return path


def serve(service: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "apps.cli", "serve", service, "--port", str(PORTS[service]), "--log-level", "warning"]
    child = subprocess.Popen(command, env=env, cwd=ROOT)
    wait_ready(f"{url(service)}/readyz", timeout=300)
    return child


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"{len(QUICK)} turns instead of {len(CASES)}")
    parser.add_argument("--only", choices=MODES, help="one configuration only")
    parser.add_argument("--gguf", help="also evaluate this GGUF file (free-full and grounded)")
    parser.add_argument("--gguf-only", action="store_true", help="with --gguf: skip the SmolLM2 rows")
    parser.add_argument("--quiet", action="store_true", help="the table only, not each turn")
    args = parser.parse_args()
    cases = QUICK if args.quick else CASES
    models = [*([] if args.gguf and args.gguf_only else ["smollm2-135m"]), *(["user-gguf"] if args.gguf else [])]
    configs = [(model, mode) for model in models
               for mode in MODES if args.only in (None, mode) and (model != "user-gguf" or mode != "free")]
    results: dict[str, list[TurnScore]] = {}
    # Left in /tmp: the embedded Postgres of this process stops at exit, after anything here could remove it.
    folder = Path(tempfile.mkdtemp(prefix="daarion-eval-"))
    os.environ["DAARION_DATA_DIR"] = str(folder / "pgdata")  # fresh: created tasks do not pile up
    database = db.database_url()
    migrations.upgrade(database)
    key = asyncio.run(issue_sofia_key(database))
    env = {**os.environ, "DATABASE_URL": database, "DAARION_PROJECTS_URL": url("projects"), "DAARION_API_KEY": key,
           "DAARION_LLM_PROXY_CONFIG": str(proxy_config(folder, args.gguf))}
    env.pop("DAARION_LOCAL_MODEL", None)
    services = [serve(name, env) for name in ("projects", "toolcore", "memory", "llm-proxy")]
    target = Target(url("agent-runtime"), url("projects"), url("memory"), key)
    try:
        for model, mode in configs:
            name = f"{Path(args.gguf).name if model == 'user-gguf' else model} {mode}"
            print(f"\n{name}: {len(cases)} turns", flush=True)
            runtime = serve("agent-runtime", {**env, "DAARION_AGENTS_CONFIG": str(agents_config(folder, model, mode))})
            try:
                results[name] = evaluate(target, cases, verbose=not args.quiet)
            finally:
                stop(runtime)
    finally:
        for child in reversed(services):
            stop(child)
    print(f"\n{table(results)}")
    print(f"\nmachine: {os.cpu_count()} CPU cores; turn time is wall time as the client sees it, after one"
          " unscored warm-up turn that loads the model")
    return 0


def stop(child: subprocess.Popen[Any]) -> None:
    child.terminate()
    child.wait(60)


if __name__ == "__main__":
    sys.exit(main())
