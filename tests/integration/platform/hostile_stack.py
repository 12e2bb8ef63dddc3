"""All five services on 127.0.0.1, served with the uvicorn options `daarion serve` uses, and for each one JSON
route and one path with a parameter: what the hostile-input tests aim at. Calls carry a real agent key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from apps.agent_runtime.app import create_app as create_runtime
from apps.agent_runtime.settings import RuntimeSettings, SeedSettings
from apps.llm_proxy.app import create_app as create_proxy
from apps.llm_proxy.settings import ProxySettings, validate
from apps.memory.app import create_app as create_memory
from apps.projects.app import create_app as create_projects
from apps.toolcore.app import create_app as create_toolcore
from domain.agents.model import AgentProfile
from tests.fakes.memory import FakeEmbedder
from tests.memory_support import memory_settings
from tests.support import bearer, issue_key, serve_in_thread

AGENT, MICRODAO = "agent:sofia", "microdao:7"
STUB_PROXY = {
    "providers": {"stub": {"kind": "stub"}},
    "models": {"stub": {"targets": [{"provider": "stub", "model": "stub-1"}]}},
    "prices": {"stub-1": {"input_per_1m": "0", "output_per_1m": "0"}},
    "limits": {"default": {"requests_per_minute": 100000, "tokens_per_minute": 100000000}},
}


class Target(msgspec.Struct, frozen=True):
    """`json_route` takes `valid_body`; `nul_path` is a real route whose parameter holds %00."""

    base: str
    json_route: str
    valid_body: dict[str, Any]
    nul_path: str
    body_limit: int


class Stack(msgspec.Struct, frozen=True):
    targets: dict[str, Target]
    key: str

    def post(self, name: str, content: bytes, content_type: str = "application/json", **headers: str,
             ) -> httpx.Response:
        target = self.targets[name]
        return httpx.post(target.base + target.json_route, content=content, timeout=60,
                          headers={**bearer(self.key), "content-type": content_type, **headers})

    def get(self, name: str, path: str, **headers: str) -> httpx.Response:
        return httpx.get(self.targets[name].base + path, headers={**bearer(self.key), **headers}, timeout=60)


@pytest.fixture(scope="module", name="stack")
def stack_fixture(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    key = issue_key(database_url, AGENT, MICRODAO)
    proxy_settings = validate(msgspec.convert(STUB_PROXY, ProxySettings), Path("hostile-inputs"))
    runtime_settings = RuntimeSettings([AgentProfile(AGENT, MICRODAO, "Sofia", "You are Sofia.", "stub")],
                                       seed=SeedSettings(on_start=False))
    embedder = FakeEmbedder(model="fake-hostile", dimensions=384)
    with ExitStack() as running:
        def serve(app: Any) -> str:
            return running.enter_context(serve_in_thread(app))

        projects = f"/microdaos/{MICRODAO}/projects"
        targets = {
            "llm-proxy": Target(serve(create_proxy(proxy_settings)), "/internal/llm/proxy",
                                {"model": "stub", "messages": [{"role": "user", "content": "hi"}]},
                                "/internal/usage?group_by=agent%00", 8 * 1024 * 1024),
            "memory": Target(serve(create_memory(memory_settings(), embedder=embedder)),
                             "/internal/agent-memory/store", {"content": {"text": "a fact"}, "kind": "fact"},
                             "/internal/agent-memory/mem%00ory", 1024 * 1024),
            "toolcore": Target(serve(create_toolcore()), "/internal/tools/call",
                               {"tool_id": "time.now", "args": {}}, "/internal/tools/?agent_id=agent%00x",
                               1024 * 1024),
            "agent-runtime": Target(serve(create_runtime(runtime_settings)), f"/internal/agents/{AGENT}/messages",
                                    {"channel_id": "cli:test", "user_id": "member:olena", "text": "hi"},
                                    "/internal/agents/agent%00sofia/messages", 1024 * 1024),
            "projects": Target(serve(create_projects()), f"{projects}/prj_treasury/tasks", {"title": "Edge task"},
                               f"{projects}/prj%00treasury/tasks", 1024 * 1024),
        }
        yield Stack(targets, key)
