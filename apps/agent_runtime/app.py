"""Composition root of the agent runtime (port 7006): clients of the other services, the ledger, the route."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from prometheus_client import CollectorRegistry

from apps.agent_runtime.routes import ROUTES
from apps.agent_runtime.seed import seed_memories
from apps.agent_runtime.settings import RuntimeConfig, load_runtime_config
from apps.common.core import database_ready, open_core
from apps.common.service import build_app
from domain.agents.turn import AgentRuntime
from infra.agents.llm_proxy_client import LlmProxyClient
from infra.agents.memory_client import MemoryClient
from infra.agents.prometheus_metrics import AgentMetrics
from infra.agents.service_http import ServiceHttp
from infra.agents.toolcore_client import ToolcoreClient
from infra.platform.clock import SystemClock

DEFAULT_PORT = 7006


def create_app(config: RuntimeConfig | None = None) -> Litestar:
    config = config or load_runtime_config()
    registry = CollectorRegistry()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        services = config.services
        http = ServiceHttp()
        async with open_core(config.ledger_mode, pool_size=2) as core:
            memory = MemoryClient(http, services.memory)
            app.state.runtime = AgentRuntime(
                memory, ToolcoreClient(http, services.toolcore), LlmProxyClient(http, services.llm_proxy),
                core.recorder, SystemClock(),
            )
            app.state.readiness["database"] = lambda: database_ready(core)
            seeding = asyncio.create_task(seed_memories(config, memory)) if config.seed.on_start else None
            try:
                yield
            finally:
                if seeding is not None:
                    seeding.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await seeding
                await http.aclose()

    return build_app("agent-runtime", ROUTES, lifespan, registry,
                     state={"config": config, "metrics": AgentMetrics(registry)})
