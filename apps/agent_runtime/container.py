"""The agent runtime's adapters: clients of memory, Toolcore and the LLM proxy, the ledger, the profiles.

The clients hold no credential: each turn brings its agent's key (apps/agent_runtime/identity.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from apps.agent_runtime.seed import seed_memories
from apps.agent_runtime.settings import RuntimeSettings
from apps.common.core import Core, OnCore, open_core
from domain.agents.turn import AgentRuntime
from infra.agents.llm_proxy_client import LlmProxyClient
from infra.agents.memory_client import MemoryClient
from infra.agents.prometheus_metrics import AgentMetrics
from infra.agents.service_http import ServiceHttp
from infra.agents.toolcore_client import ToolcoreClient
from infra.agents.traced_runtime import AgentTurns, TracedAgentRuntime
from infra.platform.clock import SystemClock
from infra.platform.tracing import OFF, Tracing


@dataclass(frozen=True)
class RuntimeContainer(OnCore):
    runtime: AgentTurns
    profiles: RuntimeSettings
    metrics: AgentMetrics
    core: Core


@asynccontextmanager
async def open_runtime(
    settings: RuntimeSettings, metrics: AgentMetrics, tracing: Tracing = OFF,
) -> AsyncIterator[RuntimeContainer]:
    services = settings.services
    http = ServiceHttp(tracing.aiohttp)
    async with open_core(settings.ledger.mode, pool_size=2) as core:
        memory = MemoryClient(http, services.memory)
        runtime: AgentTurns = AgentRuntime(
            memory, ToolcoreClient(http, services.toolcore), LlmProxyClient(http, services.llm_proxy), core.recorder,
            SystemClock(), on_tools_offered=metrics.tools_offered)
        if tracing.on:
            runtime = TracedAgentRuntime(runtime, tracing.tracer)
        seeding = asyncio.create_task(seed_memories(settings, memory)) if settings.seed.on_start else None
        try:
            yield RuntimeContainer(runtime, settings, metrics, core)
        finally:
            if seeding is not None:
                seeding.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await seeding
            await http.aclose()
