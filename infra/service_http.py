"""What the agent runtime's HTTP clients share: headers, and turning transport or error responses into
the domain's exceptions (so the domain decides what degrades and what fails, without knowing httpx).

    unreachable (connect/protocol error)  -> UpstreamFailed   (502)
    no answer in time                     -> UpstreamTimeout  (504)
    429 / 402 from the service            -> RateLimited / BudgetExhausted (passed on as they are)
    504                                   -> UpstreamTimeout
    any other non-2xx                     -> UpstreamFailed, with the service's own error message
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import msgspec

from domain.errors import BudgetExhausted, DaarionError, RateLimited, UpstreamFailed, UpstreamTimeout

_decode = msgspec.json.Decoder()


class ServiceEndpoint(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    base_url: str
    timeout_s: float = 30.0

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, 3.0))


def shared_client() -> httpx.AsyncClient:
    """One pooled client for all of the runtime's downstream calls (keep-alive matters for latency)."""
    return httpx.AsyncClient(limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))


def headers_for(request_id: str) -> dict[str, str]:
    """The turn's request id on every call; the internal token when the stack uses one."""
    headers = {"x-request-id": request_id, "content-type": "application/json"}
    token = os.environ.get("DAARION_INTERNAL_TOKEN")
    if token:
        headers["authorization"] = f"Bearer {token}"
    return headers


def transport_error(service: str, endpoint: ServiceEndpoint, exc: httpx.HTTPError) -> DaarionError:
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeout(f"the {service} service did not answer within {endpoint.timeout_s:g}s")
    return UpstreamFailed(f"cannot reach the {service} service at {endpoint.base_url} ({type(exc).__name__})")


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


def status_error(service: str, response: httpx.Response) -> DaarionError:
    error = error_body(response.content)
    message = f"the {service} service answered {response.status_code}: {error.get('message', '')}"
    if response.status_code == 429:
        retry_after = response.headers.get("retry-after", "1")
        return RateLimited(message, int(retry_after) if retry_after.isdigit() else 1)
    if response.status_code == 402:
        return BudgetExhausted(message)
    if response.status_code == 504:
        return UpstreamTimeout(message)
    return UpstreamFailed(message)
