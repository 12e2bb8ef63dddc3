"""Scaling out: two processes of each service the agent runtime calls (LLM proxy, memory, Toolcore) and two
runtimes, all `daarion serve` on one database. Every process takes calls (its own /metrics say so), an
agent's rate limit holds exactly across both proxies under concurrent turns, and a proxy killed with -9
costs no turn: the runtimes pass its share to the other replica."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.embedding_servers import FakeEmbeddingServer
from tests.integration.chaos.processes import (
    PROXY_CONFIG,
    STUB_MODEL,
    Service,
    memory_config,
    running,
    stack_env,
    write_yaml,
)
from tests.integration.chaos.records import completed_calls
from tests.support import REPO, bearer, issue_key, serve_in_thread, unique_id

pytestmark = pytest.mark.slow

LIMIT = 15  # LLM calls a minute for the limited agent; each turn below makes two (a tool call, then the reply)
TURN = {"channel_id": "cli:scale", "user_id": "member:olena", "text": "[[tool:time__now {}]]"}


def agent(agent_id: str, microdao: str) -> dict[str, Any]:
    return {"id": agent_id, "microdao_id": microdao, "display_name": "Scale", "system_prompt": "Be brief.",
            "model": STUB_MODEL, "tools": {"include": ["time.*"]}}


def tools_config(microdao: str) -> dict[str, Any]:
    """The shipped registry, with the time tools granted to `microdao` and one Python worker per Toolcore."""
    config = yaml.safe_load((REPO / "config" / "tools.yaml").read_text())
    config["permissions"].append({"microdao": microdao, "allow": ["time.*"]})
    config["python"]["max_workers"] = 1
    return config


def metric(service: Service, name: str, auth: dict[str, str], **labels: str) -> float:
    text = httpx.get(service.base + "/metrics", headers=auth, timeout=10).text
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()))


def turns(runtimes: tuple[Service, ...], agent_id: str, key: str, count: int, parallel: int) -> list[int]:
    """`count` turns, alternating between the runtimes (as a load balancer in front of them would)."""
    def ask(index: int) -> int:
        url = f"{runtimes[index % len(runtimes)].base}/internal/agents/{agent_id}/messages"
        return httpx.post(url, json=TURN, headers=bearer(key), timeout=60).status_code

    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(ask, range(count)))


def test_two_processes_of_each_service_share_the_calls_and_keep_an_agents_limit_exact(
    database_url: str, tmp_path: Path,
) -> None:
    microdao = "microdao:scale"
    free, limited = unique_id("agent:scale"), unique_id("agent:scale-limited")
    keys = {free: issue_key(database_url, free, microdao), limited: issue_key(database_url, limited, microdao)}
    operator = bearer(issue_key(database_url, None))
    proxy_config = {**PROXY_CONFIG, "limits": {"agents": {limited: {"requests_per_minute": LIMIT}}}}
    with serve_in_thread(FakeEmbeddingServer()) as embeddings:
        memory = memory_config(embeddings, f"ok-{uuid.uuid4().hex[:8]}-384")
        env = stack_env(database_url, tmp_path, DAARION_LLM_PROXY_CONFIG=write_yaml(tmp_path / "proxy.yaml", proxy_config),
                        DAARION_MEMORY_CONFIG=write_yaml(tmp_path / "memory.yaml", memory),
                        DAARION_TOOLS_CONFIG=write_yaml(tmp_path / "tools.yaml", tools_config(microdao)))
        proxies, memories, toolcores = ([Service(name, env, tmp_path, f"{name}-{i}") for i in (1, 2)]
                                        for name in ("llm-proxy", "memory", "toolcore"))
        with running(*proxies, *memories, *toolcores):
            services = {key: {"base_url": [s.base for s in replicas], "timeout_s": 30}
                        for key, replicas in (("llm_proxy", proxies), ("memory", memories), ("toolcore", toolcores))}
            runtime_yaml = write_yaml(tmp_path / "agents.yaml", {
                "services": services, "agents": [agent(free, microdao), agent(limited, microdao)]})
            runtime_env = {**env, "DAARION_AGENTS_CONFIG": runtime_yaml}
            runtimes = tuple(Service("agent-runtime", runtime_env, tmp_path, f"agent-runtime-{i}") for i in (1, 2))
            with running(*runtimes):
                assert turns(runtimes, free, keys[free], 8, parallel=2) == [200] * 8

                taken = {
                    "llm-proxy": [metric(p, "llm_proxy_calls_total", operator, agent_id=free) for p in proxies],
                    "memory": [metric(m, "memory_writes_total", operator) + metric(m, "memory_query_seconds_count", operator)
                               for m in memories],
                    "toolcore": [metric(t, "toolcore_calls_total", operator, status="succeeded") for t in toolcores],
                    "agent-runtime": [metric(r, "daarion_agent_turns_total", operator, agent_id=free)
                                      for r in runtimes],
                }
                print(f"calls per process: {taken}")
                assert all(count > 0 for counts in taken.values() for count in counts), taken
                assert sum(taken["llm-proxy"]) == 16  # two calls a turn, each on one proxy

                statuses = turns(runtimes, limited, keys[limited], 16, parallel=8)  # 32 calls asked for
                assert set(statuses) <= {200, 429} and 429 in statuses, statuses
                admitted = [metric(p, "llm_proxy_calls_total", operator, agent_id=limited, status="completed")
                            for p in proxies]
                print(f"limited agent: {statuses.count(200)} turns answered; calls admitted per proxy {admitted}")
                assert sum(completed_calls(database_url, limited).values()) == LIMIT
                assert sum(admitted) == LIMIT and min(admitted) > 0

                proxies[1].kill()
                assert turns(runtimes, free, keys[free], 6, parallel=2) == [200] * 6
