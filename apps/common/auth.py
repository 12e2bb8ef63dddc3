"""Every route but health and readiness needs a credential; the caller is whoever the key belongs to.

A route declares the scope it needs with `guards=[requires(Scope.X)]`; the guard authenticates the bearer
key against the app's authenticator (an in-memory index, no database round trip) and leaves the principal
on the request for the handler (`caller(request)`). Identity never comes from a body, path or header.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import Guard
from litestar.types import Scope as AsgiScope

from apps.common.container import AUTHENTICATOR
from domain.identity.ports import Authenticator
from domain.identity.principal import Principal
from domain.identity.scopes import Scope

_PRINCIPAL = "daarion.principal"


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    return bearer_of(connection.headers.get("authorization", ""))


def bearer_of(header: str) -> str | None:
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def requires(scope: Scope, *alternatives: Scope) -> Guard:
    """The guard of a route that needs `scope` (or any of `alternatives`; the refusal names `scope`). A
    coroutine on purpose: Litestar runs synchronous guards in a worker thread."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = await authenticate(connection.scope, bearer_token(connection))
        if not any(principal.may(other) for other in alternatives):
            principal.require(scope)
        connection.scope["state"][_PRINCIPAL] = principal

    return guard


async def authenticate(scope: AsgiScope, presented: str | None) -> Principal:
    """For raw ASGI handlers too (MCP): the principal of `presented`, by the running app's authenticator."""
    authenticator: Authenticator = scope["app"].state[AUTHENTICATOR]
    return await authenticator.authenticate(presented)


def caller(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The principal a `requires(...)` guard authenticated for this request."""
    principal = connection.scope["state"].get(_PRINCIPAL)
    if not isinstance(principal, Principal):
        raise TypeError(f"{connection.url.path} has no requires(...) guard, so it has no caller")
    return principal
