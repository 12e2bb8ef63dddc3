"""Builds the ToolService and everything it needs; shared by the HTTP app and the stdio MCP server.

Config is loaded first so a bad tools.yaml fails start-up before any connection is opened.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import msgspec

from apps.common.core import Core, open_core
from domain.tools.permissions import PermissionPolicy
from domain.tools.ports import ToolMetrics
from domain.tools.records import CallRecords
from domain.tools.service import ToolService
from infra.platform.clock import SystemClock
from infra.tools.executors.http_executor import HttpToolExecutor
from infra.tools.executors.python_executor import PythonToolExecutor
from infra.tools.json_schema import JsonSchemaValidator
from infra.tools.pg_idempotency_store import PgIdempotencyStore
from infra.tools.ssrf import OutboundClients
from infra.tools.yaml_registry import load_tool_catalog

LOCAL_MCP_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*")


class ToolcoreSettings(msgspec.Struct, frozen=True):
    tools_config: str | None = None  # default: $DAARION_TOOLS_CONFIG, else config/tools.yaml
    ledger_mode: str = "group_commit"
    # True: a call's response waits for its ledger commit (see domain/tools/records.py for the trade).
    ledger_wait: bool = False
    ledger_linger_s: float = 0.025  # how long outcome entries gather before they go to the writer together
    pool_size: int = 10
    # Host headers /mcp answers (DNS-rebinding protection); extend with DAARION_MCP_ALLOWED_HOSTS.
    mcp_allowed_hosts: tuple[str, ...] = LOCAL_MCP_HOSTS

    @classmethod
    def from_env(cls) -> ToolcoreSettings:
        extra = tuple(h.strip() for h in os.environ.get("DAARION_MCP_ALLOWED_HOSTS", "").split(",") if h.strip())
        return cls(ledger_mode=os.environ.get("DAARION_LEDGER_MODE", "group_commit"),
                   ledger_wait=os.environ.get("DAARION_TOOLCORE_LEDGER_WAIT") == "1",
                   ledger_linger_s=float(os.environ.get("DAARION_TOOLCORE_LEDGER_LINGER_MS", "25")) / 1000,
                   mcp_allowed_hosts=LOCAL_MCP_HOSTS + extra)


class Toolcore(msgspec.Struct):
    service: ToolService
    core: Core


@asynccontextmanager
async def open_toolcore(settings: ToolcoreSettings, metrics: ToolMetrics) -> AsyncIterator[Toolcore]:
    catalog = load_tool_catalog(Path(settings.tools_config) if settings.tools_config else None)
    outbound = catalog.config.outbound
    clients = OutboundClients(outbound.allowed_ports, outbound.max_redirects, catalog.internal_origins)
    python = PythonToolExecutor(catalog.python_functions, catalog.config.python.max_workers)
    try:
        async with open_core(settings.ledger_mode, settings.pool_size) as core:
            tools = catalog.registry.all()
            service = ToolService(
                catalog.registry, PermissionPolicy(catalog.grants), JsonSchemaValidator(tools),
                {"http": HttpToolExecutor(catalog.http_targets, clients), "python": python},
                PgIdempotencyStore(core.pool), CallRecords(core.recorder, metrics, settings.ledger_wait, settings.ledger_linger_s),
                SystemClock(),
            )
            try:
                yield Toolcore(service, core)
            finally:
                await service.drain()  # every ledger entry handed to the writer is committed before it closes
    finally:
        await clients.aclose()
        python.close()
