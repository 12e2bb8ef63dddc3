"""A running Toolcore stack for integration tests: embedded Postgres, the projects service, a test
upstream, and Toolcore itself on a config that adds test tools to the shipped ones; real API keys for
the agents the tests act as (Sofia and Mallory of microDAO 7, the auditor of microDAO 9)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
import yaml

from apps.projects.app import create_app as create_projects_app
from apps.toolcore.app import create_app
from apps.toolcore.settings import ToolcoreSettings
from domain.ledger.events import ToolInvoked
from infra.ledger.event_store import open_ledger
from tests.support import REPO, bearer, issue_key, serve_in_thread, wait_until
from tests.tool_upstream import Upstream

SECRET = "upstream-secret-9c2d4e"
AGENTS = {"sofia": ("agent:sofia", "microdao:7"), "mallory": ("agent:mallory", "microdao:7"),
          "auditor": ("agent:auditor", "microdao:9")}


class Stack(msgspec.Struct):
    toolcore: str
    projects: str
    upstream: Upstream
    database_url: str
    keys: dict[str, str]  # "sofia", "mallory", "auditor", and "operator" (no agent)

    def headers(self, request_id: str | None = None, who: str = "sofia") -> dict[str, str]:
        headers = bearer(self.keys[who])
        if request_id:
            headers["x-request-id"] = request_id
        return headers

    def tool_events(self, request_id: str, timeout: float = 5.0) -> list[ToolInvoked]:
        """The call's ledger entries; outcomes are committed just after the response, so wait for them."""
        ledger = open_ledger(self.database_url)
        found: list[ToolInvoked] = []

        def committed() -> bool:
            notifications = ledger.recorder.select_notifications(start=1, limit=100_000)
            events = [ledger.mapper.to_domain_event(n) for n in notifications]
            found[:] = [e for e in events if isinstance(e, ToolInvoked) and e.request_id == request_id]
            return bool(found)

        try:
            wait_until(committed, timeout=timeout)
        finally:
            ledger.close()
        return found


def stack_config(upstream_base: str) -> dict[str, Any]:
    config = yaml.safe_load((REPO / "config" / "tools.yaml").read_text())
    config["services"]["upstream"] = {"base_url": upstream_base, "internal": True}
    config["python"]["allowed_modules"].append("tests.tool_functions")
    config["permissions"].append({"agent": "agent:sofia", "allow": ["echo.*", "slow.*", "nap.*", "time.*"]})
    config["permissions"].append({"agent": "agent:auditor", "allow": ["projects.list", "echo.*"]})
    config["permissions"].append({"microdao": "microdao:9", "allow": ["time.*"]})
    open_args = {"type": "object", "properties": {"note": {"type": "string"}}}
    config["tools"] += [
        {"id": "echo.headers", "description": "echo", "executor": "http", "input_schema": open_args,
         "safe_to_log": True, "http": {"service": "upstream", "path": "/echo-headers", "query": {"note": "note"},
                                       "secret_headers": [{"name": "X-Api-Key", "env": "TEST_TOOLCORE_SECRET"}]}},
        {"id": "echo.forwarded", "description": "echo, acting with the caller's key", "executor": "http",
         "input_schema": open_args, "http": {"service": "upstream", "path": "/echo-headers",
                                             "forward_credential": True}},
        {"id": "echo.owner", "description": "echo of a tool whose `owner` argument names the caller's agent",
         "executor": "http", "identity_args": {"owner": "agent"},
         "input_schema": {"type": "object", "properties": {"owner": {"type": "string"}}, "required": ["owner"]},
         "http": {"service": "upstream", "path": "/ok", "query": {"owner": "owner"}}},
        {"id": "slow.get", "description": "slow", "executor": "http", "input_schema": open_args, "timeout_s": 0.3,
         "http": {"service": "upstream", "path": "/slow?s=2"}},
        {"id": "nap.long", "description": "nap", "executor": "python", "timeout_s": 0.2,
         "input_schema": {"type": "object", "properties": {"seconds": {"type": "number"}}},
         "python": {"function": "tests.tool_functions.samples.nap"}},
    ]
    return config


@pytest.fixture(scope="module", name="stack")
def stack_fixture(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    upstream = Upstream()
    keys = {name: issue_key(database_url, agent, microdao) for name, (agent, microdao) in AGENTS.items()}
    keys["operator"] = issue_key(database_url, None)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TEST_TOOLCORE_SECRET", SECRET)
        with serve_in_thread(create_projects_app()) as projects, serve_in_thread(upstream) as upstream_base:
            env.setenv("DAARION_PROJECTS_URL", projects)
            path = tmp_path_factory.mktemp("toolcore") / "tools.yaml"
            path.write_text(yaml.safe_dump(stack_config(upstream_base)))
            with serve_in_thread(create_app(ToolcoreSettings(tools_config=str(path)))) as toolcore:
                yield Stack(toolcore, projects, upstream, database_url, keys)
