"""Composition root of Toolcore (port 7009): REST routes, /mcp (streamable HTTP), health, metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from litestar import Litestar, asgi
from litestar.types import Receive, Scope, Send
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from prometheus_client import CollectorRegistry

from apps.common.auth import internal_guard
from apps.common.container import container_in
from apps.common.service import build_app
from apps.toolcore.container import ToolcoreContainer, open_toolcore
from apps.toolcore.mcp_server import build_mcp_server, identity_from_headers
from apps.toolcore.routes import ToolsController
from apps.toolcore.settings import ToolcoreSettings, load_toolcore_settings
from infra.tools.prometheus_metrics import ToolcoreMetrics


@dataclass(frozen=True)
class ToolcoreHttpContainer(ToolcoreContainer):
    """Toolcore with its MCP endpoint: the streamable-HTTP sessions run for the app's lifetime."""

    mcp_sessions: StreamableHTTPSessionManager


def create_app(settings: ToolcoreSettings | None = None) -> Litestar:
    settings = settings or load_toolcore_settings()
    registry = CollectorRegistry()
    metrics = ToolcoreMetrics(registry)

    @asynccontextmanager
    async def open_container() -> AsyncIterator[ToolcoreHttpContainer]:
        async with open_toolcore(settings, metrics) as toolcore:
            sessions = StreamableHTTPSessionManager(
                build_mcp_server(toolcore.service, identity_from_headers), json_response=True, stateless=True,
                security_settings=TransportSecuritySettings(
                    allowed_hosts=list(settings.mcp_allowed_hosts),
                    allowed_origins=[f"http://{host}" for host in settings.mcp_allowed_hosts],
                ),
            )
            async with sessions.run():
                yield ToolcoreHttpContainer(toolcore.service, toolcore.core, sessions)

    return build_app("toolcore", [ToolsController, mcp_endpoint], open_container, registry)


@asgi("/mcp", is_mount=True, copy_scope=True, guards=[internal_guard()])
async def mcp_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    sessions = container_in(scope, ToolcoreHttpContainer).mcp_sessions
    await sessions.handle_request(scope, receive, send)  # type: ignore[arg-type]
