"""Composition root of Toolcore (port 7009): REST routes, /mcp (streamable HTTP), health, metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router, asgi
from litestar.datastructures import State
from litestar.di import Provide
from litestar.types import Receive, Scope, Send
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from prometheus_client import CollectorRegistry

from apps.common.auth import internal_guard
from apps.common.core import database_ready
from apps.common.service import build_app
from apps.toolcore.mcp_server import build_mcp_server, identity_from_headers
from apps.toolcore.routes import ToolsController
from apps.toolcore.runtime import ToolcoreSettings, open_toolcore
from domain.tools.service import ToolService
from infra.tools.prometheus_metrics import ToolcoreMetrics

DEFAULT_PORT = 7009


def create_app(settings: ToolcoreSettings | None = None) -> Litestar:
    settings = settings or ToolcoreSettings.from_env()
    registry = CollectorRegistry()
    metrics = ToolcoreMetrics(registry)
    holder: dict[str, ToolService] = {}  # /mcp is built here; the service it calls opens in the lifespan
    mcp_server = build_mcp_server(lambda: holder["service"], identity_from_headers)
    sessions = StreamableHTTPSessionManager(
        mcp_server, json_response=True, stateless=True,
        security_settings=TransportSecuritySettings(
            allowed_hosts=list(settings.mcp_allowed_hosts),
            allowed_origins=[f"http://{host}" for host in settings.mcp_allowed_hosts],
        ),
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_toolcore(settings, metrics) as toolcore, sessions.run():
            holder["service"] = app.state.service = toolcore.service
            app.state.readiness["database"] = lambda: database_ready(toolcore.core)
            yield

    @asgi("/mcp", is_mount=True, copy_scope=True, guards=[internal_guard()])
    async def mcp_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        await sessions.handle_request(scope, receive, send)  # type: ignore[arg-type]

    api = Router("/", route_handlers=[ToolsController],
                 dependencies={"service": Provide(_provide_service, sync_to_thread=False)})
    return build_app("toolcore", [api, mcp_endpoint], lifespan, registry)


def _provide_service(state: State) -> ToolService:
    service: ToolService = state.service
    return service


