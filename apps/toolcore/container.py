"""Toolcore's adapters: the registry, permissions, executors, idempotency store and the ledger's call
records, around one ToolService. Shared by the HTTP app and the stdio MCP server.

Config is loaded first so a bad tools.yaml fails start-up before any connection is opened.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from apps.common.core import Core, OnCore, open_core
from apps.toolcore.settings import ToolcoreSettings
from domain.tools.permissions import PermissionPolicy
from domain.tools.ports import ToolExecutor, ToolMetrics
from domain.tools.records import CallRecords
from domain.tools.service import ToolService
from infra.platform.clock import SystemClock
from infra.platform.tracing import OFF, Tracing
from infra.tools.executors.http_executor import HttpToolExecutor
from infra.tools.executors.python_executor import PythonToolExecutor
from infra.tools.json_schema import JsonSchemaValidator
from infra.tools.pg_idempotency_store import PgIdempotencyStore
from infra.tools.ssrf import OutboundClients
from infra.tools.traced_executor import TracedToolExecutor
from infra.tools.yaml_registry import load_tool_catalog


@dataclass(frozen=True)
class ToolcoreContainer(OnCore):
    service: ToolService
    core: Core


@asynccontextmanager
async def open_toolcore(
    settings: ToolcoreSettings, metrics: ToolMetrics, tracing: Tracing = OFF,
) -> AsyncIterator[ToolcoreContainer]:
    catalog = load_tool_catalog(Path(settings.tools_config) if settings.tools_config else None)
    outbound = catalog.config.outbound
    clients = OutboundClients(outbound.allowed_ports, outbound.max_redirects, catalog.internal_origins,
                              trace_configs=tracing.aiohttp)
    python = PythonToolExecutor(catalog.python_functions, catalog.config.python.max_workers,
                                allowed_modules=catalog.config.python.allowed_modules)
    try:
        async with open_core(settings.ledger.mode, settings.pool_size) as core:
            records = CallRecords(core.recorder, metrics, settings.ledger_wait, settings.ledger_linger_ms / 1000)
            executors: dict[str, ToolExecutor] = {"http": HttpToolExecutor(catalog.http_targets, clients),
                                                  "python": python}
            if tracing.on:
                executors = {kind: TracedToolExecutor(executor, kind, tracing.tracer)
                             for kind, executor in executors.items()}
            service = ToolService(
                catalog.registry, PermissionPolicy(catalog.grants), JsonSchemaValidator(catalog.registry.all()),
                executors,
                PgIdempotencyStore(core.pool), records, SystemClock(),
            )
            try:
                yield ToolcoreContainer(service, core)
            finally:
                await service.drain()  # every ledger entry handed to the writer is committed before it closes
    finally:
        await clients.aclose()
        python.close()
