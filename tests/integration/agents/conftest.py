"""A real agent runtime and a real LLM proxy (the stub model) on 127.0.0.1, with memory and Toolcore as one
recording stand-in, so a test sees the credential each of a turn's calls carried."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
import pytest

from apps.agent_runtime.app import create_app as create_runtime
from apps.agent_runtime.settings import RuntimeSettings, SeedSettings, ServicesSettings
from apps.llm_proxy.app import create_app as create_proxy
from apps.llm_proxy.settings import ProxySettings
from domain.agents.model import AgentProfile, ToolSettings
from infra.agents.service_http import ServiceEndpoint
from infra.llm.providers.stub import StubProvider, StubRule
from tests.fakes.agents import RecordingProvider, RecordingServices
from tests.support import bearer, serve_in_thread

MODEL = "runtime-test"
SOFIA = AgentProfile("agent:sofia", "microdao:7", "Sofia", "You are Sofia.", MODEL)
TARAS = AgentProfile("agent:runtime-taras", "microdao:7", "Taras", "You are Taras.", MODEL,
                     tools=ToolSettings(max_steps=0))
# Configured here in microdao:7, registered (with its key) in another microDAO: the registry wins.
MOVED = AgentProfile("agent:runtime-moved", "microdao:7", "Moved", "You moved.", MODEL)


class RuntimeStack(msgspec.Struct):
    runtime: str
    proxy: str
    services: RecordingServices
    llm: RecordingProvider

    def ask(self, key: str | None, agent: str = SOFIA.id, text: str = "hello", stream: bool = False,
            **body: Any) -> httpx.Response:
        payload = {"channel_id": "cli:test", "user_id": "member:olena", "text": text, **body}
        return httpx.post(f"{self.runtime}/internal/agents/{agent}/messages", json=payload,
                          params={"stream": "true"} if stream else {}, headers=bearer(key) if key else {},
                          timeout=60)


@pytest.fixture(scope="session")
def runtime_stack(database_url: str) -> Iterator[RuntimeStack]:
    llm = RecordingProvider(StubProvider("stub", [StubRule("what time", "time__now")]))
    proxy_config = msgspec.convert({
        "providers": {"stub": {"kind": "stub"}},
        "models": {MODEL: {"targets": [{"provider": "stub", "model": "stub-1"}]}},
        "prices": {"stub-1": {"input_per_1m": "0.5", "output_per_1m": "1.5"}},
        "limits": {"default": {"requests_per_minute": 100000, "tokens_per_minute": 100000000}},
    }, ProxySettings)
    services = RecordingServices(tools=["time__now"])
    with serve_in_thread(create_proxy(proxy_config, {"stub": llm})) as proxy, serve_in_thread(services) as stand_in:
        endpoints = ServicesSettings(ServiceEndpoint(proxy, 30), ServiceEndpoint(stand_in, 10),
                                     ServiceEndpoint(stand_in, 10))
        config = RuntimeSettings([SOFIA, TARAS, MOVED], endpoints, SeedSettings(on_start=False))
        with serve_in_thread(create_runtime(config)) as runtime:
            yield RuntimeStack(runtime, proxy, services, llm)


def revoke(url: str, key: str) -> None:
    """Revokes `key` in the database at `url`, as `daarion keys revoke` does."""
    from domain.identity.keys import key_id_of
    from infra.identity.pg_identity_store import PgIdentityStore
    from infra.platform.db import create_pool

    async def revoke_now() -> None:
        pool = await create_pool(url, max_size=1)
        try:
            await PgIdentityStore(pool).revoke_key(key_id_of(key) or "", datetime.now(UTC))
        finally:
            await pool.close()

    with ThreadPoolExecutor(1) as worker:
        worker.submit(asyncio.run, revoke_now()).result()
