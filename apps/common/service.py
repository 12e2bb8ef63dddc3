"""What every service shares: health, readiness, Prometheus metrics, error handling, internal auth."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from litestar import Litestar, Response, get
from litestar.datastructures import State
from litestar.types import ControllerRouterHandler
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from apps.common.auth import internal_guard
from apps.common.errors import EXCEPTION_HANDLERS

ReadinessCheck = Callable[[], Awaitable[None]]
Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]


__all__ = ["ReadinessCheck", "build_app", "internal_guard"]


def build_app(
    service: str,
    route_handlers: Sequence[ControllerRouterHandler],
    lifespan: Lifespan,
    registry: CollectorRegistry,
    state: dict[str, Any] | None = None,
) -> Litestar:
    """The app's readiness checks live in `app.state.readiness` (name -> async check that raises)."""

    @get("/healthz", sync_to_thread=False, include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @get("/readyz", include_in_schema=False)
    async def readyz(state: State) -> Response[dict[str, Any]]:
        checks: dict[str, ReadinessCheck] = state.get("readiness", {})
        results = await asyncio.gather(*(_probe(check) for check in checks.values()))
        report = dict(zip(checks, results, strict=True))
        ready = all(result == "ok" for result in results)
        return Response({"status": "ready" if ready else "not_ready", "service": service, "checks": report},
                        status_code=200 if ready else 503)

    @get("/metrics", sync_to_thread=False, include_in_schema=False)
    def metrics() -> Response[bytes]:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Litestar(
        route_handlers=[healthz, readyz, metrics, *route_handlers],
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        state=State({
            "readiness": {}, "internal_token": os.environ.get("DAARION_INTERNAL_TOKEN") or None, **(state or {}),
        }),
        openapi_config=None,
        debug=False,
    )


async def _probe(check: ReadinessCheck) -> str:
    try:
        await asyncio.wait_for(check(), timeout=2.0)
    except Exception as exc:  # noqa: BLE001 - any failure of a check means "not ready", never a 500
        return f"failed: {type(exc).__name__}"
    return "ok"

