"""Latency of one agent turn with the stub LLM, so the figures are the platform's own overhead.

Every service runs as its own process (as `daarion up` runs them) on the embedded Postgres: projects,
Toolcore, memory (real MiniLM, indexing on), the LLM proxy (the stub, scripted to call projects.list and
tasks.list: 3 LLM calls and 2 tool calls per turn) and the agent runtime. The turn "Sofia, що нового в
проєкті X?" is sent one at a time; the runtime's Server-Timing header splits each turn by step.

Baseline, in the same run: the bench makes the very same downstream calls itself, one after another
(memory query, tool list, 3 proxy calls, 2 tool calls, memory store), so "runtime adds" is what the
orchestration costs on top of the services it uses. Both speak as Sofia, with a key the bench issues her.

    python bench/agent_turn.py            # 300 turns (+30 warm-up), then 300 baseline sequences
    python bench/agent_turn.py --quick    # 60 turns
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.proxy_overhead import wait_ready
from infra.platform import db, migrations

ROOT = Path(__file__).resolve().parent.parent
TARGET_P50_MS = 50.0
PORTS = {"projects": 18461, "toolcore": 18462, "memory": 18463, "llm-proxy": 18464, "agent-runtime": 18465}
QUESTION = "Sofia, що нового в проєкті X?"
PHASES = ("memory_query", "tool_list", "llm", "tools", "memory_store", "ledger", "total")


def url(service: str) -> str:
    return f"http://127.0.0.1:{PORTS[service]}"


def write_configs(folder: Path) -> dict[str, str]:
    proxy = yaml.safe_load((ROOT / "config" / "llm_proxy.yaml").read_text())
    proxy["models"] = {"bench": {"targets": [{"provider": "stub_agent", "model": "stub-1", "timeout_s": 10}]}}
    proxy["limits"] = {"default": {"requests_per_minute": 10_000_000, "tokens_per_minute": 2_000_000_000}}
    proxy["budgets"] = {}
    agents = yaml.safe_load((ROOT / "config" / "agents.yaml").read_text())
    agents["agents"][0]["model"] = "bench"
    agents["seed"] = {"on_start": False}
    agents["services"] = {name.replace("-", "_"): {"base_url": url(name), "timeout_s": 30}
                          for name in ("llm-proxy", "memory", "toolcore")}
    paths = {}
    for name, content in (("llm_proxy", proxy), ("agents", agents)):
        path = folder / f"{name}.yaml"
        path.write_text(yaml.safe_dump(content, allow_unicode=True))
        paths[name] = str(path)
    return {"DAARION_LLM_PROXY_CONFIG": paths["llm_proxy"], "DAARION_AGENTS_CONFIG": paths["agents"],
            "DAARION_PROJECTS_URL": url("projects")}


async def issue_sofia_key(database: str) -> str:
    """Sofia's own key: the runtime acts with the key its caller presents, as does every direct call."""
    from apps.llm_proxy.local_identity import identity_admin
    from domain.identity.scopes import AGENT_SCOPES

    async with identity_admin(database) as admin:
        await admin.register_agent("agent:sofia", "microdao:7", "bench")
        return (await admin.issue_key("agent:sofia", AGENT_SCOPES, "bench", name="bench")).key


def start_stack(env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    for service, port in PORTS.items():
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                raise SystemExit(f"port {port} (for {service}) is taken by another process; free it and rerun")
    children = []
    for service in ("projects", "toolcore", "memory", "llm-proxy", "agent-runtime"):
        command = [sys.executable, "-m", "apps.cli", "serve", service, "--port", str(PORTS[service]),
                   "--log-level", "warning"]
        children.append(subprocess.Popen(command, env=env, cwd=ROOT))
        started = wait_ready(f"{url(service)}/readyz", timeout=180)
        print(f"  {service:<14} ready in {started:5.2f} s")
    return children


def turn(client: httpx.Client, channel: str) -> tuple[float, dict[str, float]]:
    body = {"microdao_id": "microdao:7", "channel_id": channel, "user_id": "member:bench", "text": QUESTION}
    started = time.perf_counter()
    response = client.post(f"{url('agent-runtime')}/internal/agents/agent:sofia/messages", json=body)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200 or len(response.json()["tool_calls"]) != 2:
        raise SystemExit(f"unexpected turn: {response.status_code} {response.text[:300]}")
    phases = {}
    for part in response.headers["server-timing"].split(","):
        name, _, duration = part.strip().partition(";dur=")
        phases[name] = float(duration)
    return elapsed, phases


def direct(client: httpx.Client, channel: str) -> float:
    """The same downstream calls as one turn, made by the bench itself, one after another."""
    started = time.perf_counter()
    ids = {"agent_id": "agent:sofia", "microdao_id": "microdao:7"}
    client.post(f"{url('memory')}/internal/agent-memory/query",
                json={**ids, "query": QUESTION, "channel_id": channel, "limit": 5}).raise_for_status()
    tools = client.get(f"{url('toolcore')}/internal/tools", params={**ids, "format": "openai"}).json()["tools"]
    messages: list[dict[str, Any]] = [{"role": "system", "content": "You are Sofia."},
                                      {"role": "user", "content": QUESTION}]
    for _ in range(3):
        reply = client.post(f"{url('llm-proxy')}/internal/llm/proxy", json={
            "model": "bench", "messages": messages, "tools": tools, "metadata": ids}).json()
        message = reply["choices"][0]["message"]
        if not message.get("tool_calls"):
            break
        messages.append({"role": "assistant", "tool_calls": message["tool_calls"]})
        for call in message["tool_calls"]:
            result = client.post(f"{url('toolcore')}/internal/tools/call", json={
                **ids, "tool_id": call["function"]["name"].replace("__", "."),
                "args": json.loads(call["function"]["arguments"])}).json()
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": json.dumps(result["result"])})
    client.post(f"{url('memory')}/internal/agent-memory/store", json={
        **ids, "channel_id": channel, "content": {"user_message": QUESTION, "agent_reply": message.get("content")}},
    ).raise_for_status()
    return (time.perf_counter() - started) * 1000


def quantiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    turns = 60 if args.quick else 300
    # Its own database: other benches load 10k+ memories into theirs.
    os.environ.setdefault("DAARION_DATA_DIR", str(ROOT / ".daarion" / "bench-agent-pgdata"))
    database = db.database_url()
    migrations.upgrade(database)
    key = asyncio.run(issue_sofia_key(database))
    children: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": database, **write_configs(Path(tmp))}
        try:
            print("starting the stack (each service its own process, stub LLM):")
            children = start_stack(env)
            with httpx.Client(timeout=60, headers={"authorization": f"Bearer {key}"}) as client:
                for i in range(turns // 10):  # warm-up: connections, caches, the model's first batches
                    turn(client, f"bench:warm-{i % 5}")
                totals, phases = [], {name: [] for name in PHASES}  # type: ignore[var-annotated]
                for i in range(turns):
                    elapsed, split = turn(client, f"bench:channel-{i % 20}")
                    totals.append(elapsed)
                    for name in PHASES:
                        phases[name].append(split.get(name, 0.0))
                baseline = [direct(client, f"bench:direct-{i % 20}") for i in range(turns)]
        finally:
            for child in reversed(children):
                child.terminate()
            for child in children:
                child.wait(30)
    report(turns, totals, phases, baseline)
    return 0


def report(turns: int, totals: list[float], phases: dict[str, list[float]], baseline: list[float]) -> None:
    p50, p99 = quantiles(totals)
    print(f"\n{turns} turns, one at a time; stub LLM (model time ~0: every millisecond is platform overhead)")
    print(f"  {'step':<26}{'p50 ms':>9}{'p99 ms':>9}")
    labels = {"memory_query": "memory query (+tool list)", "tool_list": "tool list (concurrent)",
              "llm": "LLM via proxy (3 calls)", "tools": "tools via Toolcore (2)", "memory_store": "memory store",
              "ledger": "ledger (concurrent)", "total": "turn, inside the runtime"}
    for name in PHASES:
        step50, step99 = quantiles(phases[name])
        print(f"  {labels[name]:<26}{step50:9.2f}{step99:9.2f}")
    print(f"  {'turn, as the client sees':<26}{p50:9.2f}{p99:9.2f}")
    base50, base99 = quantiles(baseline)
    print(f"\nbaseline: the same downstream calls made directly, in sequence: p50 {base50:.2f} ms, p99 {base99:.2f} ms")
    print(f"the runtime adds (p50): {p50 - base50:+.2f} ms  (it runs memory query and tool list concurrently)")
    verdict = "meets" if p50 <= TARGET_P50_MS else "misses"
    print(f"target: turn p50 <= {TARGET_P50_MS:.0f} ms excluding model time -> {p50:.2f} ms, {verdict} it")


if __name__ == "__main__":
    sys.exit(main())
