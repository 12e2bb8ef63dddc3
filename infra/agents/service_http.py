"""What the agent runtime's HTTP clients share: one aiohttp session, the turn's headers, and turning
transport failures or error responses into the domain's exceptions (so the domain decides what degrades
and what fails, without knowing the HTTP library).

    unreachable (connect/protocol error)  -> UpstreamFailed   (502)
    no answer in time                     -> UpstreamTimeout  (504)
    429 / 402 from the service            -> RateLimited / BudgetExhausted (passed on as they are)
    401 / 403 from the service            -> Unauthenticated / the PermissionDenied it named (passed on)
    504                                   -> UpstreamTimeout
    any other non-2xx                     -> UpstreamFailed, with the service's own error message

Credentials: the runtime acts FOR an agent by presenting that agent's own key, the one its caller
presented (service to service). Each call sends the turn's credential (TurnContext.credential) as its
bearer; the runtime holds no key of its own and no shared secret, so a compromised runtime can act only
as the agents whose keys it was handed, and a revoked key stops working at once (every service checks
the key on every call).

aiohttp rather than httpx: a turn makes about eight calls, and httpx costs ~1.7 ms of CPU per request
here against aiohttp's ~0.1 ms (measured for the proxy's providers, see infra/llm/providers/openai_compatible.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import msgspec

from domain.agents.model import TurnContext
from domain.kernel.errors import (
    AgentKeyRequired,
    BudgetExhausted,
    DaarionError,
    IdentityMismatch,
    InsufficientScope,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
    Unauthenticated,
    UnknownAgent,
    UpstreamFailed,
    UpstreamTimeout,
)
from infra.agents.endpoints import NOTHING_SENT, Rotation, ServiceEndpoint

_decode = msgspec.json.Decoder()
_REFUSALS: dict[str, type[PermissionDenied]] = {
    error.type: error for error in (InsufficientScope, IdentityMismatch, UnknownAgent, AgentKeyRequired)}


class Reply(msgspec.Struct, frozen=True):
    """A whole response; header names lower-cased."""

    status: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        return _decode.decode(self.content)


class ServiceHttp:
    """One pooled session for all of a runtime's downstream calls (keep-alive matters for latency); the
    credential is the turn's, per call, never the session's. A service's replicas take turns
    (infra/agents/endpoints.py)."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._rotation = Rotation()

    @property
    def session(self) -> aiohttp.ClientSession:
        """Created on first use, inside the running loop (aiohttp binds a session to its loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200), trust_env=False)
        return self._session

    async def call(
        self, service: str, endpoint: ServiceEndpoint, method: str, path: str, context: TurnContext,
        body: object = None, params: Mapping[str, str] | None = None,
    ) -> Reply:
        data = None if body is None else msgspec.json.encode(body)
        response = await self._send(service, endpoint, method, path, context, data, params)
        try:
            async with response:
                headers = {name.lower(): value for name, value in response.headers.items()}
                return Reply(response.status, headers, await response.read())
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise transport_error(service, endpoint, exc) from None

    @asynccontextmanager
    async def stream(
        self, service: str, endpoint: ServiceEndpoint, path: str, context: TurnContext, body: object,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """The open response of a POST; errors while opening it are the domain's, like `call`'s."""
        response = await self._send(service, endpoint, "POST", path, context, msgspec.json.encode(body), None)
        try:
            async with response:
                yield response
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise transport_error(service, endpoint, exc) from None

    async def _send(
        self, service: str, endpoint: ServiceEndpoint, method: str, path: str, context: TurnContext,
        data: bytes | None, params: Mapping[str, str] | None,
    ) -> aiohttp.ClientResponse:
        """The response (its head read) of the first replica, in this call's turn, that takes the connection."""
        refused: BaseException | None = None
        for base_url in self._rotation.order(method, path, endpoint.base_urls):
            try:
                return await self.session.request(method, base_url + path, data=data, params=params,
                                                  headers=_headers(context), timeout=endpoint.timeout())
            except NOTHING_SENT as exc:
                refused = exc
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise transport_error(service, endpoint, exc) from None
        assert refused is not None
        raise transport_error(service, endpoint, refused)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def _headers(context: TurnContext) -> dict[str, str]:
    """The turn's request id and the agent's credential on every call."""
    headers = {"x-request-id": context.request_id, "content-type": "application/json"}
    if context.credential is not None:
        headers["authorization"] = f"Bearer {context.credential.reveal()}"
    return headers


def transport_error(service: str, endpoint: ServiceEndpoint, exc: BaseException) -> DaarionError:
    if isinstance(exc, TimeoutError):
        return UpstreamTimeout(f"the {service} service did not answer within {endpoint.timeout_s:g}s")
    where = ", ".join(endpoint.base_urls)
    return UpstreamFailed(f"cannot reach the {service} service at {where} ({type(exc).__name__})")


def error_body(content: bytes) -> dict[str, Any]:
    """The stable error body `{"error": {"type", "message", ...}}`, or a stand-in built from the raw text."""
    try:
        body = _decode.decode(content)
    except msgspec.DecodeError:
        return {"type": "http_error", "message": content[:300].decode("utf-8", "replace")}
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return {k: v for k, v in error.items() if k in ("type", "message", "errors")}
    return {"type": "http_error", "message": str(body)[:300]}


def status_error(service: str, status: int, headers: Mapping[str, str], content: bytes) -> DaarionError:
    error = error_body(content)
    message = f"the {service} service answered {status}: {error.get('message', '')}"
    if status == 429:
        retry_after = headers.get("retry-after", "1")
        return RateLimited(message, int(retry_after) if retry_after.isdigit() else 1)
    if status == 402:
        return BudgetExhausted(message)
    if status == 401:
        return Unauthenticated(message)
    if status == 403:
        return _REFUSALS.get(str(error.get("type")), PermissionDenied)(message)
    if status == 504:
        return UpstreamTimeout(message)
    if status == 503:  # the service is there but cannot work now (its database is down): so is the turn
        return ServiceUnavailable(message)
    return UpstreamFailed(message)
