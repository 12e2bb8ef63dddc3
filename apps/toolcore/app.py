"""Composition root of Toolcore (port 7009): REST routes, /mcp (streamable HTTP) behind a bearer key, its
protected-resource metadata, health, metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from prometheus_client import CollectorRegistry

from apps.common.service import build_app
from apps.toolcore.container import open_toolcore
from apps.toolcore.mcp_http import ToolcoreHttpContainer, mcp_endpoint, protected_resource_metadata
from apps.toolcore.mcp_server import build_mcp_server, caller_from_scope
from apps.toolcore.routes import ToolsController
from apps.toolcore.settings import ToolcoreSettings, load_toolcore_settings
from infra.platform.tracing import Tracing
from infra.tools.prometheus_metrics import ToolcoreMetrics


def create_app(settings: ToolcoreSettings | None = None) -> Litestar:
    settings = settings or load_toolcore_settings()
    registry = CollectorRegistry()
    metrics = ToolcoreMetrics(registry)

    @asynccontextmanager
    async def open_container(tracing: Tracing) -> AsyncIterator[ToolcoreHttpContainer]:
        async with open_toolcore(settings, metrics, tracing) as toolcore:
            sessions = StreamableHTTPSessionManager(
                build_mcp_server(toolcore.service, caller_from_scope), json_response=True, stateless=True,
                security_settings=TransportSecuritySettings(
                    allowed_hosts=list(settings.mcp_allowed_hosts),
                    allowed_origins=[f"http://{host}" for host in settings.mcp_allowed_hosts],
                ),
            )
            async with sessions.run():
                yield ToolcoreHttpContainer(toolcore.service, toolcore.core, sessions)

    return build_app("toolcore", [ToolsController, mcp_endpoint, protected_resource_metadata], open_container,
                     registry)
