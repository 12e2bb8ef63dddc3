"""Internal endpoints take a bearer token when DAARION_INTERNAL_TOKEN was set at app creation."""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import Guard

from domain.kernel.errors import Unauthenticated


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def internal_guard() -> Guard:
    """The guard for internal routes; the expected token is read from app state at each request.
    A coroutine on purpose: Litestar runs synchronous guards in a worker thread."""
    return _check_internal_token


async def _check_internal_token(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    expected: str | None = connection.app.state.get("internal_token")
    if expected is None:
        return
    presented = bearer_token(connection)
    if presented is None or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise Unauthenticated("this internal endpoint needs 'Authorization: Bearer <DAARION_INTERNAL_TOKEN>'")
