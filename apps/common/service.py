"""What every service shares: one way to wire it (a typed container opened in the lifespan, handed to
handlers through DI), health, readiness, Prometheus metrics, traces, error handling, internal auth."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from litestar import Litestar, Response, Router, get
from litestar.datastructures import State
from litestar.types import ControllerRouterHandler
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from apps.common.auth import requires
from apps.common.container import ContainerSlot, Injected, ReadinessCheck, ServiceContainer
from apps.common.edge import DEFAULT_BODY_BYTES, EdgeApp, EdgeRequest
from apps.common.errors import EXCEPTION_HANDLERS
from apps.common.openapi import openapi_config
from apps.common.tracing import ServerSpans
from domain.identity.scopes import Scope
from infra.platform.tracing import Tracing, service_tracing

OpenContainer = Callable[[Tracing], AbstractAsyncContextManager[ServiceContainer]]

__all__ = ["build_app"]


def build_app(
    service: str,
    route_handlers: Sequence[ControllerRouterHandler],
    open_container: OpenContainer,
    registry: CollectorRegistry,
) -> Litestar:
    """`open_container` builds the service's adapters, traced or not as `tracing` says; it runs once, for the
    app's lifetime."""

    slot = ContainerSlot()
    tracing = service_tracing(service)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            async with open_container(tracing) as container:
                slot.fill(app.state, container)
                yield
        finally:
            await asyncio.to_thread(tracing.shutdown)  # the last spans are exported before the process ends

    @get("/healthz", sync_to_thread=False, include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @get("/readyz", include_in_schema=False)
    async def readyz(container: Injected[ServiceContainer]) -> Response[dict[str, Any]]:
        checks = container.readiness()
        results = await asyncio.gather(*(_probe(check) for check in checks.values()))
        report = dict(zip(checks, results, strict=True))
        ready = all(result == "ok" for result in results)
        return Response({"status": "ready" if ready else "not_ready", "service": service, "checks": report},
                        status_code=200 if ready else 503)

    @get("/metrics", sync_to_thread=False, include_in_schema=False, guards=[requires(Scope.METRICS_READ)])
    def metrics() -> Response[bytes]:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    wired = Router("/", route_handlers=[readyz, *route_handlers], dependencies=slot.dependencies())
    app = EdgeApp(
        route_handlers=[healthz, metrics, wired],
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        state=State(),
        request_class=EdgeRequest,
        request_max_body_size=DEFAULT_BODY_BYTES,
        openapi_config=openapi_config(service),
        debug=False,
    )
    if tracing.on:  # around routing and the exception handlers: the span sees the route and the final status
        app.asgi_handler = ServerSpans(app.asgi_handler, tracing.tracer)
    return app


async def _probe(check: ReadinessCheck) -> str:
    try:
        await asyncio.wait_for(check(), timeout=2.0)
    except Exception as exc:  # noqa: BLE001 - any failure of a check means "not ready", never a 500
        return f"failed: {type(exc).__name__}"
    return "ok"
