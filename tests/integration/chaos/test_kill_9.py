"""kill -9 of a service under 16-way load, then a restart: the durability contracts hold across the crash.

- LLM proxy: every call answered 2xx has exactly one LlmCallCompleted in the ledger (none lost, none
  twice), and the usage projection, caught up after the restart, counts each event once.
- Memory: every memory answered 201 is there after the restart, and the indexing queue drains (the jobs
  the killed process had claimed come back when their lease runs out).

The services are real processes (`daarion serve`) on the session's database; each test has its own agent,
and memory its own embedder label, so its rows and jobs are its own."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.fakes.embedding_servers import FakeEmbeddingServer
from tests.integration.chaos.load import Load
from tests.integration.chaos.processes import (
    STUB_MODEL,
    Service,
    memory_config,
    running,
    stack_env,
    write_yaml,
)
from tests.integration.chaos.records import completed_calls, memories_indexed
from tests.support import bearer, issue_key, serve_in_thread, unique_id, wait_until

pytestmark = pytest.mark.slow

CLIENTS = 16


def crash_under_load(service: Service, send: Callable[[httpx.Client], httpx.Response]) -> Load:
    """16 clients for about a second, kill -9, a restart on the same port, a second more; the answers."""
    load = Load(send, CLIENTS, timeout=10)
    load.start()
    try:
        time.sleep(1.2)
        service.kill()
        service.start()
        service.wait_ready()
        started = time.monotonic()
        wait_until(lambda: load.succeeded_since(started) is not None, timeout=30)
        time.sleep(1.0)
    finally:
        load.stop()
    return load


def test_kill_9_of_the_proxy_under_load_loses_no_answered_call_and_counts_none_twice(
    database_url: str, tmp_path: Path,
) -> None:
    agent, microdao = unique_id("agent:chaos"), "microdao:chaos"
    auth = bearer(issue_key(database_url, agent, microdao))
    chat = {"model": STUB_MODEL, "messages": [{"role": "user", "content": "hi"}]}
    with running(Service("llm-proxy", stack_env(database_url, tmp_path), tmp_path)) as (proxy,):
        load = crash_under_load(proxy, lambda c: c.post(proxy.base + "/internal/llm/proxy", json=chat, headers=auth))

        statuses = Counter(answer.status for answer in load.answers)
        assert set(statuses) <= {0, 200}, (statuses, proxy.log()[-3000:])  # 0: refused or cut off while down
        answered = [answer.request_id for answer in load.answers if answer.status == 200]
        recorded = completed_calls(database_url, agent)
        print(f"proxy: {dict(statuses)}; {sum(recorded.values())} LlmCallCompleted")
        assert answered and [request_id for request_id in answered if recorded[request_id] == 0] == []
        assert [request_id for request_id, count in recorded.items() if count > 1] == []

        def projected() -> int:
            report = httpx.get(proxy.base + "/internal/usage", params={"group_by": "agent"}, headers=auth,
                               timeout=10).json()
            return sum(row["llm_calls"] for row in report["rows"]) if report["complete"] else -1

        wait_until(lambda: projected() == sum(recorded.values()), timeout=20, interval=0.2)


def test_kill_9_of_memory_under_store_load_loses_no_stored_memory_and_the_queue_drains(
    database_url: str, tmp_path: Path,
) -> None:
    agent, microdao = unique_id("agent:chaos"), "microdao:chaos"
    auth = bearer(issue_key(database_url, agent, microdao))
    with serve_in_thread(FakeEmbeddingServer()) as embeddings:
        model = f"ok-{uuid.uuid4().hex[:8]}-384"
        config = write_yaml(tmp_path / "memory.yaml", memory_config(embeddings, model))
        env = stack_env(database_url, tmp_path, DAARION_MEMORY_CONFIG=config)
        with running(Service("memory", env, tmp_path)) as (memory,):
            def store(client: httpx.Client) -> httpx.Response:
                fact = {"content": {"text": f"fact {uuid.uuid4().hex}"}, "kind": "fact"}
                return client.post(memory.base + "/internal/agent-memory/store", json=fact, headers=auth)

            load = crash_under_load(memory, store)

            statuses = Counter(answer.status for answer in load.answers)
            print(f"memory: {dict(statuses)}")
            assert set(statuses) <= {0, 201}, (statuses, memory.log()[-3000:])
            stored = [answer.body["id"] for answer in load.answers if answer.status == 201]
            assert stored

            wait_until(lambda: memories_indexed(database_url, stored, model) == (len(stored), len(stored)), timeout=30,
                       interval=0.2)

