"""The five services on 127.0.0.1, each in a thread of this process and served as `daarion serve` serves
it: projects, Toolcore (the shipped tools, pointed at that projects server), memory (indexing on, a
bag-of-words embedder), the LLM proxy (the stub, as MODEL) and the agent runtime (the shipped agents, on
MODEL). They use the database DATABASE_URL names as they start."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import msgspec
import yaml

from apps.agent_runtime.app import create_app as create_runtime
from apps.agent_runtime.settings import RuntimeSettings, SeedSettings, ServicesSettings, load_runtime_settings
from apps.llm_proxy.app import create_app as create_proxy
from apps.llm_proxy.settings import ProxySettings
from apps.memory.app import create_app as create_memory
from apps.projects.app import create_app as create_projects
from apps.toolcore.app import create_app as create_toolcore
from apps.toolcore.settings import ToolcoreSettings
from infra.agents.service_http import ServiceEndpoint
from tests.fakes.memory import FakeEmbedder
from tests.memory_support import memory_settings
from tests.support import REPO, serve_in_thread

MODEL = "fuzz-model"
EMBEDDINGS_MODEL = "fuzz-embeddings"
SERVICES = ("llm-proxy", "memory", "toolcore", "agent-runtime", "projects")


@contextmanager
def five_services(workdir: Path) -> Iterator[dict[str, str]]:
    """{service name: base URL}; `workdir` takes Toolcore's config file."""
    with ExitStack() as servers:
        projects = servers.enter_context(serve_in_thread(create_projects()))
        memory = servers.enter_context(serve_in_thread(create_memory(
            memory_settings(indexing={"enabled": True}), FakeEmbedder("fuzz/fake-bow"))))
        proxy = servers.enter_context(serve_in_thread(create_proxy(proxy_settings())))
        tools = yaml.safe_load((REPO / "config" / "tools.yaml").read_text())
        tools["services"]["projects"] = {"base_url": projects, "internal": True}
        (workdir / "tools.yaml").write_text(yaml.safe_dump(tools))
        toolcore = servers.enter_context(serve_in_thread(create_toolcore(
            ToolcoreSettings(tools_config=str(workdir / "tools.yaml")))))
        runtime = servers.enter_context(serve_in_thread(create_runtime(runtime_settings(proxy, memory, toolcore))))
        yield {"llm-proxy": proxy, "memory": memory, "toolcore": toolcore, "agent-runtime": runtime,
               "projects": projects}


def proxy_settings() -> ProxySettings:
    return msgspec.convert({
        "providers": {"stub": {"kind": "stub"}, "minilm": {"kind": "minilm"}},
        "models": {MODEL: {"targets": [{"provider": "stub", "model": "stub-1"}]}},
        "embeddings": {EMBEDDINGS_MODEL: {"targets": [{"provider": "minilm", "model": "all-minilm-l6-v2"}]}},
        "prices": {"stub-1": {"input_per_1m": "0.5", "output_per_1m": "1.5"}},
        "limits": {"default": {"requests_per_minute": 1_000_000, "tokens_per_minute": 1_000_000_000}},
    }, ProxySettings)


def runtime_settings(proxy: str, memory: str, toolcore: str) -> RuntimeSettings:
    shipped = load_runtime_settings(REPO / "config" / "agents.yaml")
    agents = [msgspec.structs.replace(agent, model=MODEL) for agent in shipped.agents]
    services = ServicesSettings(ServiceEndpoint(proxy, 30), ServiceEndpoint(memory, 10), ServiceEndpoint(toolcore, 10))
    return RuntimeSettings(agents, services, SeedSettings(on_start=False))
