"""A database stop and start while all five services run as real processes and take requests: every answer in
the outage is 503 with Retry-After (none 500), /readyz flips to 503 and back, everything works afterwards,
and nothing is lost: each 2xx of the LLM proxy has its one usage event, each stored memory is there and indexed.

The services run on an embedded server of this test's own (stopping the session's would disturb the rest)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from infra.platform import db, migrations
from tests.fakes.embedding_servers import FakeEmbeddingServer
from tests.integration.chaos.load import Answer, Load
from tests.integration.chaos.processes import (
    STUB_MODEL,
    Service,
    memory_config,
    running,
    runtime_config,
    stack_env,
    write_yaml,
)
from tests.integration.chaos.records import completed_calls, memories_indexed
from tests.support import bearer, issue_key, serve_in_thread, wait_until

pytestmark = pytest.mark.slow

AGENT, MICRODAO = "agent:sofia", "microdao:7"  # the shipped tools.yaml grants Sofia time.*
EMBEDDER = "ok-outage-384"  # the fake embeddings server answers it with 384 dimensions
OUTAGE_S = 7.0  # longer than a ledger write waits for its commit (5 s), so that every client sends in it


class Stack(msgspec.Struct):
    server: Any                 # the embedded server's handle: stop() and start() make the outage
    url: str
    services: dict[str, Service]
    auth: dict[str, str]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    server = db.embedded_server(str((tmp_path / "pgdata").resolve()))
    url = str(server.get_uri())
    migrations.upgrade(url)
    auth = bearer(issue_key(url, AGENT, MICRODAO))
    env = stack_env(url, tmp_path, DAARION_MEMORY_CONFIG=str(tmp_path / "memory.yaml"),
                    DAARION_AGENTS_CONFIG=str(tmp_path / "agents.yaml"))
    projects = Service("projects", env, tmp_path)
    env["DAARION_PROJECTS_URL"] = projects.base
    proxy, memory, toolcore, runtime = (Service(name, env, tmp_path)
                                        for name in ("llm-proxy", "memory", "toolcore", "agent-runtime"))
    try:
        with serve_in_thread(FakeEmbeddingServer()) as embeddings:
            write_yaml(tmp_path / "memory.yaml", memory_config(embeddings, EMBEDDER))
            write_yaml(tmp_path / "agents.yaml", runtime_config(AGENT, MICRODAO, proxy.base, memory.base,
                                                                toolcore.base))
            with running(proxy, memory, toolcore, projects, runtime) as services:
                yield Stack(server, url, {service.name: service for service in services}, auth)
    finally:
        server.stop()


class ReadinessWatch:
    """Polls every service's /readyz every 0.2 s: (time, service, status)."""

    def __init__(self, services: dict[str, Service]) -> None:
        self.seen: list[tuple[float, str, int]] = []
        self._services = services
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self._stop.wait(0.2):
                for name, service in self._services.items():
                    try:
                        status = client.get(service.base + "/readyz").status_code
                    except httpx.HTTPError:
                        status = 0
                    self.seen.append((time.monotonic(), name, status))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def all_ready(self) -> bool:
        latest = {name: status for _, name, status in self.seen}
        return len(latest) == len(self._services) and set(latest.values()) == {200}

    def statuses(self, name: str, start: float, end: float) -> set[int]:
        return {status for at, who, status in self.seen if who == name and start < at < end}


class Timeline(msgspec.Struct):
    stopped: float              # the database is down from here ...
    restarting: float           # ... to here
    ready: float                # every /readyz says 200 again
    working: dict[str, float]   # the first request after the restart that each service answered with a 2xx


def test_a_database_outage_is_503_with_retry_after_everywhere_readyz_flips_and_nothing_is_lost(stack: Stack) -> None:
    loads = _loads(stack.services, stack.auth)
    watch = ReadinessWatch(stack.services)
    timeline = _outage(stack, loads, watch)
    print(f"ready {timeline.ready - timeline.restarting:.1f} s after the restart began; working again after "
          + ", ".join(f"{name} {at - timeline.restarting:.1f} s" for name, at in timeline.working.items())
          + "; answers: " + "; ".join(f"{name} {dict(Counter(a.status for a in load.answers))}"
                                      for name, load in loads.items()))

    for name, load in loads.items():
        log = stack.services[name].log()[-3000:]
        assert {a.status for a in load.answers} <= {200, 201, 502, 503}, (name, Counter(a.status for a in load.answers), log)
        failed = [a for a in load.answers if a.status >= 500 and not _unavailable(name, a)]
        assert not failed, (name, failed[:3], log)
        # Sent while the database was down; answered then or, when a ledger write waited for the database
        # (up to 5 s), just after it came back.
        during = load.sent_between(timeline.stopped, timeline.restarting - 0.5)
        assert during and all(_unavailable(name, a) for a in during), (name, during[:3])
        after = load.sent_between(timeline.working[name] + 1.0, float("inf"))  # a second to settle
        assert after and {a.status for a in after} <= {200, 201}, (name, [a for a in after if a.status >= 300][:3], log)
        assert watch.statuses(name, timeline.stopped + 1, timeline.restarting) == {503}, name
        assert watch.statuses(name, timeline.ready + 0.5, float("inf")) == {200}, name

    answered = [a.request_id for a in loads["llm-proxy"].answers if a.status == 200]
    recorded = completed_calls(stack.url, AGENT)
    assert answered and [request_id for request_id in answered if recorded[request_id] != 1] == []
    stored = [a.body["id"] for a in loads["memory"].answers if a.status == 201]
    wait_until(lambda: memories_indexed(stack.url, stored, EMBEDDER) == (len(stored), len(stored)), timeout=30,
               interval=0.2)


def _outage(stack: Stack, loads: dict[str, Load], watch: ReadinessWatch) -> Timeline:
    for load in loads.values():
        load.start()
    try:
        time.sleep(1.5)
        stack.server.stop()
        stopped = time.monotonic()
        time.sleep(OUTAGE_S)
        restarting = time.monotonic()
        stack.server.start()
        wait_until(watch.all_ready, timeout=30, interval=0.1)
        ready = time.monotonic()
        wait_until(lambda: all(load.succeeded_since(restarting) for load in loads.values()), timeout=30)
        working = {name: load.succeeded_since(restarting) or 0.0 for name, load in loads.items()}
        time.sleep(2.0)
        return Timeline(stopped, restarting, ready, working)
    finally:
        for load in loads.values():
            load.stop()
        watch.stop()


def _unavailable(service: str, answer: Answer) -> bool:
    return answer.status == 503 and answer.retry_after == "1" and answer.error_type == "unavailable"


def _loads(services: dict[str, Service], auth: dict[str, str]) -> dict[str, Load]:
    """Two clients per service: one whose call waits for the ledger does not keep the other from sending."""

    def load(service: str, path: str, body: Callable[[], Any] | None = None) -> Load:
        url = services[service].base + path

        def send(client: httpx.Client) -> httpx.Response:
            return client.get(url, headers=auth) if body is None else client.post(url, json=body(), headers=auth)

        return Load(send, 2, timeout=15)

    chat = {"model": STUB_MODEL, "messages": [{"role": "user", "content": "hi"}]}
    turn = {"channel_id": "cli:outage", "user_id": "member:olena", "text": "hi"}
    return {
        "llm-proxy": load("llm-proxy", "/internal/llm/proxy", lambda: chat),
        "memory": load("memory", "/internal/agent-memory/store",
                       lambda: {"content": {"text": f"fact {uuid.uuid4().hex}"}, "kind": "fact"}),
        # with an idempotency key, a tool call claims it in the database first
        "toolcore": load("toolcore", "/internal/tools/call",
                         lambda: {"tool_id": "time.now", "args": {}, "idempotency_key": uuid.uuid4().hex}),
        "projects": load("projects", f"/microdaos/{MICRODAO}/projects/prj_treasury/tasks"),
        "agent-runtime": load("agent-runtime", f"/internal/agents/{AGENT}/messages", lambda: turn),
    }

