"""The whole stack for end-to-end tests, on 127.0.0.1 against the embedded Postgres, once per session:
projects, Toolcore (shipped tools.yaml, pointed at that projects server), memory (real MiniLM, indexing
on), the LLM proxy (the stub, scripted as below and recorded) and the agent runtime. Every service runs in
a thread of this process, on the session's database; each request carries Sofia's own key (issued there),
and the runtime calls the other services with that same key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import msgspec
import pytest
import yaml

from apps.agent_runtime.app import create_app as create_runtime
from apps.agent_runtime.settings import RuntimeSettings, SeedSettings, ServicesSettings, load_runtime_settings
from apps.llm_proxy.app import create_app as create_proxy
from apps.llm_proxy.settings import ProxySettings
from apps.memory.app import create_app as create_memory
from apps.projects.app import create_app as create_projects
from apps.toolcore.app import create_app as create_toolcore
from apps.toolcore.settings import ToolcoreSettings
from domain.agents.model import AnswerSettings, PromptSettings
from domain.ledger.application import UsageLedger
from infra.agents.service_http import ServiceEndpoint
from infra.llm.providers.stub import StubProvider, StubRule
from infra.memory.embedders.minilm import MiniLMEmbedder
from tests.fakes.agents import RecordingProvider
from tests.memory_support import memory_settings, minilm_fixture  # noqa: F401 - the session's MiniLM
from tests.proxy_support import events_of, key_of
from tests.support import REPO, bearer, free_port, serve_in_thread, wait_until

MODEL = "sofia-test"

# How the stub plays the model: project questions list the projects, then the tasks of Project X;
# "clean up" asks for a tool nobody granted; "archived" asks for the tasks of a project that is not there.
STUB_RULES = [
    StubRule("Project X|проєкт", "projects__list"),
    StubRule("Project X|проєкт", "tasks__list",
             {"project_id": "{{result:projects__list:projects[name=Project X].id}}"}),
    StubRule("clean up", "admin__wipe_everything", offered_only=False),
    StubRule("archived", "tasks__list", {"project_id": "prj_archived_long_ago"}),
]


class Stack(msgspec.Struct):
    runtime: str
    proxy: str
    memory: str
    projects: str
    toolcore: str
    llm: RecordingProvider
    ledger: UsageLedger
    config: RuntimeSettings
    key: str  # Sofia's own API key

    @property
    def auth(self) -> dict[str, str]:
        return bearer(self.key)

    def ask(self, text: str, channel: str, runtime: str | None = None, request_id: str | None = None,
            **params: Any) -> httpx.Response:
        body = {"microdao_id": "microdao:7", "channel_id": channel, "user_id": "member:olena", "text": text}
        headers = {**self.auth, "x-request-id": request_id} if request_id else self.auth
        return httpx.post(f"{runtime or self.runtime}/internal/agents/agent:sofia/messages", json=body,
                          params=params, headers=headers, timeout=300)

    def remember(self, channel: str, user_message: str, agent_reply: str) -> str:
        """An earlier conversation, stored straight into memory; returns its id once it is indexed."""
        body = {"agent_id": "agent:sofia", "microdao_id": "microdao:7", "channel_id": channel,
                "user_id": "member:olena", "content": {"user_message": user_message, "agent_reply": agent_reply}}
        response = httpx.post(f"{self.memory}/internal/agent-memory/store", json=body, headers=self.auth,
                              timeout=30)
        assert response.status_code == 201, response.text
        memory_id: str = response.json()["id"]

        def indexed() -> bool:
            record = httpx.get(f"{self.memory}/internal/agent-memory/{memory_id}", headers=self.auth,
                               timeout=10).json()
            return bool(record["indexed_chunks"]) and record["indexed_chunks"] == record["chunks"]

        wait_until(indexed, timeout=30, interval=0.1)
        return memory_id

    def recall(self, channel: str, query: str) -> dict[str, Any]:
        body = {"agent_id": "agent:sofia", "microdao_id": "microdao:7", "query": query, "channel_id": channel,
                "limit": 10}
        response = httpx.post(f"{self.memory}/internal/agent-memory/query", json=body, headers=self.auth,
                              timeout=30)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def events(self, request_id: str, until: Callable[[list[Any]], bool] = bool, timeout: float = 10) -> list[Any]:
        found: list[Any] = []

        def ready() -> bool:
            found[:] = events_of(self.ledger, request_id)
            return until(found)

        wait_until(ready, timeout=timeout, interval=0.1)
        return found


def runtime_config(proxy: str, memory: str, toolcore: str) -> RuntimeSettings:
    """The shipped agents.yaml (Sofia's real prompt and settings) on the test model and servers, in free
    mode without the grounding check and on the full prompt: these tests follow the flow the (scripted,
    English-only) model drives and check it read every task the tools returned, however many earlier tests
    created; grounded mode and the check have tests/e2e/test_agent_eval.py, the compact prompt's trimming
    tests/unit/agents/test_turn.py."""
    shipped = load_runtime_settings(REPO / "config" / "agents.yaml")
    agents = [msgspec.structs.replace(agent, model=MODEL, answer=AnswerSettings(mode="free", check=False),
                                      prompt=PromptSettings()) for agent in shipped.agents]
    services = ServicesSettings(ServiceEndpoint(proxy, 30), ServiceEndpoint(memory, 10), ServiceEndpoint(toolcore, 10))
    return RuntimeSettings(agents, services, SeedSettings(on_start=False))


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


def proxy_config() -> ProxySettings:
    raw = {
        "providers": {"stub": {"kind": "stub"}},
        "models": {MODEL: {"targets": [{"provider": "stub", "model": "stub-1"}]}},
        "prices": {"stub-1": {"input_per_1m": "0.5", "output_per_1m": "1.5"}},
        "limits": {"default": {"requests_per_minute": 100000, "tokens_per_minute": 100000000}},
    }
    return msgspec.convert(raw, ProxySettings)


@pytest.fixture(scope="session")
def stack(database_url: str, minilm: MiniLMEmbedder, tmp_path_factory: pytest.TempPathFactory,
          ledger_for_agents: UsageLedger) -> Iterator[Stack]:
    llm = RecordingProvider(StubProvider("stub", STUB_RULES))
    memory_app = create_memory(memory_settings(indexing={"enabled": True, "poll_seconds": 0.05}), minilm)
    with serve_in_thread(create_projects()) as projects, serve_in_thread(memory_app) as memory, \
            serve_in_thread(create_proxy(proxy_config(), {"stub": llm})) as proxy:
        tools = yaml.safe_load((REPO / "config" / "tools.yaml").read_text())
        tools["services"]["projects"] = {"base_url": projects, "internal": True}
        tools_file = tmp_path_factory.mktemp("tools") / "tools.yaml"
        tools_file.write_text(yaml.safe_dump(tools))
        with serve_in_thread(create_toolcore(ToolcoreSettings(tools_config=str(tools_file)))) as toolcore:
            config = runtime_config(proxy, memory, toolcore)
            with serve_in_thread(create_runtime(config)) as runtime:
                yield Stack(runtime, proxy, memory, projects, toolcore, llm, ledger_for_agents, config,
                            key_of("agent:sofia", "microdao:7"))


@pytest.fixture(scope="session")
def ledger_for_agents(database_url: str) -> Iterator[UsageLedger]:
    from infra.ledger.event_store import open_ledger

    opened = open_ledger(database_url)
    yield opened
    opened.close()


@pytest.fixture()
def runtime_with(stack: Stack) -> Iterator[Callable[..., str]]:
    """Starts another runtime on the same stack with some services replaced (e.g. memory=dead_url())."""
    opened: list[Any] = []

    def start(timeout_s: float = 5.0, **urls: str) -> str:
        services = {"llm_proxy": stack.proxy, "memory": stack.memory, "toolcore": stack.toolcore, **urls}
        endpoints = ServicesSettings(**{name: ServiceEndpoint(url, timeout_s) for name, url in services.items()})
        config = msgspec.structs.replace(stack.config, services=endpoints)
        server = serve_in_thread(create_runtime(config))
        opened.append(server)
        return server.__enter__()

    yield start
    for server in reversed(opened):
        server.__exit__(None, None, None)
