"""Internal endpoints take a bearer token when DAARION_INTERNAL_TOKEN is set."""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import Guard

from domain.errors import Unauthenticated


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def internal_token_guard(expected: str | None) -> Guard:
    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if expected is None:
            return
        presented = bearer_token(connection)
        if presented is None or not hmac.compare_digest(presented.encode(), expected.encode()):
            raise Unauthenticated("this internal endpoint needs 'Authorization: Bearer <DAARION_INTERNAL_TOKEN>'")

    return guard
