"""Known traffic for the console's browser tests, through the real proxy, Toolcore and memory, on a database
of its own: two microDAOs (Sofia of microdao:7, Rival of microdao:9), one request id that makes a whole turn
(a memory write, a tool call, an LLM call), a denied tool call, and one dead letter in the indexing queue."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import psycopg
import yaml

from apps.console.app import create_app as create_console
from apps.console.settings import ConsoleSettings
from apps.llm_proxy.app import create_app as create_proxy
from apps.llm_proxy.settings import ProxySettings
from apps.memory.app import create_app as create_memory
from apps.toolcore.app import create_app as create_toolcore
from apps.toolcore.settings import ToolcoreSettings
from infra.llm.providers.stub import StubProvider
from tests.fakes.memory import FakeEmbedder
from tests.memory_support import memory_settings
from tests.support import REPO, bearer, fresh_database, issue_key, serve_in_thread

SOFIA, RIVAL, SEVEN, NINE = "agent:sofia", "agent:rival", "microdao:7", "microdao:9"
MODEL = "console-test"


class World(msgspec.Struct):
    database: str
    console: str
    proxy: str
    admin_key: str
    scoped_key: str      # an operator key of microdao:9 only
    sofia_key: str
    turn_request: str    # Sofia's request id with a memory write, a tool call and an LLM call
    sofia_only_request: str

    def usage(self, group_by: str, days: int = 30) -> list[dict[str, Any]]:
        until = datetime.now(UTC).date()
        since = until - timedelta(days=days - 1)
        answer = httpx.get(f"{self.proxy}/internal/usage", params={"group_by": group_by, "from": str(since),
                           "to": str(until)}, headers=bearer(self.admin_key), timeout=30)
        assert answer.status_code == 200 and answer.json()["complete"], answer.text
        rows: list[dict[str, Any]] = answer.json()["rows"]
        return rows

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database, autocommit=True) as connection:
            cursor = connection.execute(query, params)
            return cursor.fetchall() if cursor.description else []


def proxy_settings() -> ProxySettings:
    return msgspec.convert({
        "providers": {"stub": {"kind": "stub"}},
        "models": {MODEL: {"targets": [{"provider": "stub", "model": "stub-1"}]}},
        "prices": {"stub-1": {"input_per_1m": "0.5", "output_per_1m": "1.5"}},
        "limits": {"default": {"requests_per_minute": 100000, "tokens_per_minute": 100000000}},
        "budgets": {"agents": {SOFIA: "50"}, "microdaos": {SEVEN: "500", NINE: "5"}},
    }, ProxySettings)


@contextmanager
def console_world(session_url: str, workdir: Path) -> Iterator[World]:
    url = fresh_database(session_url, "console")
    keys = {"admin": issue_key(url, None), "scoped": issue_key(url, None, NINE),
            "sofia": issue_key(url, SOFIA, SEVEN), "rival": issue_key(url, RIVAL, NINE)}
    tools = yaml.safe_load((REPO / "config" / "tools.yaml").read_text())
    tools_file = workdir / "tools.yaml"
    tools_file.write_text(yaml.safe_dump(tools))
    with ExitStack() as stack:
        os.environ["DATABASE_URL"] = url  # the services read it once, as they start
        try:
            proxy = stack.enter_context(serve_in_thread(create_proxy(proxy_settings(), {"stub": StubProvider("stub")})))
            memory = stack.enter_context(serve_in_thread(create_memory(memory_settings(), FakeEmbedder())))
            toolcore = stack.enter_context(serve_in_thread(create_toolcore(
                ToolcoreSettings(tools_config=str(tools_file), ledger_wait=True))))
            console = stack.enter_context(serve_in_thread(create_console(
                ConsoleSettings(session_secret="s" * 40), proxy_settings(), tools_file)))
        finally:
            os.environ["DATABASE_URL"] = session_url
        turn, sofia_only = f"req_{uuid.uuid4().hex}", f"req_{uuid.uuid4().hex}"
        _traffic(proxy, memory, toolcore, keys, turn, sofia_only)
        world = World(url, console, proxy, keys["admin"], keys["scoped"], keys["sofia"], turn, sofia_only)
        # A job that failed for good, as the indexing worker leaves it after its last attempt.
        world.sql("UPDATE memory_index_jobs SET dead_at = now(), attempts = 5, last_error = 'embedder said no' "
                  "WHERE microdao_id = %s", SEVEN)
        world.usage("agent")  # waits until the projection has every event
        yield world


def _traffic(proxy: str, memory: str, toolcore: str, keys: dict[str, str], turn: str, sofia_only: str) -> None:
    def chat(key: str, text: str, request_id: str | None = None) -> None:
        headers = {**bearer(key), **({"x-request-id": request_id} if request_id else {})}
        answer = httpx.post(f"{proxy}/v1/chat/completions", headers=headers, timeout=30,
                            json={"model": MODEL, "messages": [{"role": "user", "content": text}]})
        assert answer.status_code == 200, answer.text

    def remember(key: str, agent: str, microdao: str, request_id: str) -> None:
        body = {"agent_id": agent, "microdao_id": microdao, "channel_id": "console", "user_id": "member:olena",
                "content": {"user_message": "what is new", "agent_reply": "Project X shipped"}}
        answer = httpx.post(f"{memory}/internal/agent-memory/store", json=body, timeout=30,
                            headers={**bearer(key), "x-request-id": request_id})
        assert answer.status_code == 201, answer.text

    def tool(key: str, request_id: str) -> httpx.Response:
        return httpx.post(f"{toolcore}/internal/tools/call", json={"tool_id": "time.now"}, timeout=30,
                          headers={**bearer(key), "x-request-id": request_id})

    remember(keys["sofia"], SOFIA, SEVEN, turn)
    assert tool(keys["sofia"], turn).json()["ok"] is True
    chat(keys["sofia"], "Sofia, what is new in Project X?", turn)
    chat(keys["sofia"], "a second, longer question for Sofia about the treasury report", sofia_only)
    chat(keys["sofia"], "three")
    chat(keys["rival"], "rival question one")
    chat(keys["rival"], "rival question number two, a little longer")
    remember(keys["rival"], RIVAL, NINE, f"req_{uuid.uuid4().hex}")
    assert tool(keys["rival"], f"req_{uuid.uuid4().hex}").status_code == 403  # Rival has no grant: denied
