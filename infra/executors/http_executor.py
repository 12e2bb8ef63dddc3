"""HttpToolExecutor: one tool call as an HTTP request through the SSRF-guarded clients.

Retries (exponential backoff with jitter) happen only when the domain grants more than one attempt
(idempotent tool, or a call carrying an idempotency key) and only on connect errors, timeouts and
5xx; a 4xx is the upstream's answer and is handed to the agent. `timeout_s` bounds each attempt,
headers to body. The body is read up to the tool's size cap and no further.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
import msgspec
from ssrfguard import SSRFGuardError, TooManyRedirectsError

from domain.tools import (
    BLOCKED,
    INVALID_RESULT,
    RESULT_TOO_LARGE,
    TIMEOUT,
    UPSTREAM_ERROR,
    UPSTREAM_REJECTED,
    ToolCall,
    ToolDefinition,
    ToolFailure,
)
from infra.executors.http_request import HttpTarget, OutgoingRequest, build_request
from infra.ssrf import OutboundClients

log = logging.getLogger("daarion.toolcore.http")

REDACTED = b"[redacted]"


class _Retryable(ToolFailure):
    pass


class HttpToolExecutor:
    def __init__(
        self,
        targets: Mapping[str, HttpTarget],
        clients: OutboundClients,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        backoff_base_s: float = 0.1,
        backoff_cap_s: float = 2.0,
    ) -> None:
        self._targets = targets
        self._clients = clients
        self._sleep = sleep
        self._backoff_base_s = backoff_base_s
        self._backoff_cap_s = backoff_cap_s

    async def execute(self, tool: ToolDefinition, call: ToolCall, attempts: int) -> Any:
        target = self._targets[tool.id]
        request = build_request(target, call)
        client = self._clients.for_origin(target.origin)
        for attempt in range(attempts):
            try:
                return await self._once(client, request, tool)
            except _Retryable as failure:
                if attempt + 1 >= attempts:
                    raise ToolFailure(failure.type, failure.message, failure.status) from None
                log.info("tool %s attempt %d failed (%s); retrying", tool.id, attempt + 1, failure.type)
                await self._sleep(self._backoff(attempt))
        raise AssertionError("attempts must be at least 1")

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self._backoff_cap_s, self._backoff_base_s * 2**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # jitter: concurrent retries do not march in step

    async def _once(self, client: httpx.AsyncClient, request: OutgoingRequest, tool: ToolDefinition) -> Any:
        try:
            async with asyncio.timeout(tool.timeout_s):
                async with client.stream(
                    request.method, request.url, params=request.params, json=request.json,
                    headers=request.headers, timeout=tool.timeout_s,
                ) as response:
                    if response.status_code >= 500:
                        raise _Retryable(UPSTREAM_ERROR, f"upstream answered {response.status_code}",
                                         response.status_code)
                    body = await _read_capped(response, tool.max_result_bytes)
        except (TimeoutError, httpx.TimeoutException):
            raise _Retryable(TIMEOUT, f"no complete answer within {tool.timeout_s:g}s") from None
        except httpx.ConnectError:
            raise _Retryable(UPSTREAM_ERROR, "could not connect to the upstream service") from None
        except TooManyRedirectsError as exc:
            raise ToolFailure(UPSTREAM_ERROR, f"too many redirects: {exc}") from None
        except SSRFGuardError as exc:
            log.warning("tool %s refused by the SSRF guard: %s", tool.id, exc)
            raise ToolFailure(BLOCKED, f"destination refused: {exc}") from None
        except (httpx.TooManyRedirects, httpx.HTTPError) as exc:
            raise ToolFailure(UPSTREAM_ERROR, f"upstream failed: {type(exc).__name__}") from None
        for secret in request.secrets:
            body = body.replace(secret, REDACTED)  # an upstream that echoes its credentials must not leak them
        if response.status_code >= 400:
            raise ToolFailure(UPSTREAM_REJECTED, f"upstream answered {response.status_code}: {_snippet(body)}",
                              response.status_code)
        if 300 <= response.status_code < 400:
            raise ToolFailure(UPSTREAM_ERROR, f"upstream answered {response.status_code} without a usable redirect")
        return _decode(body, response.headers.get("content-type", ""))


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ToolFailure(RESULT_TOO_LARGE, f"upstream declared {declared} bytes, over the {limit}-byte cap")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():  # decoded bytes: a compressed bomb hits the cap too
        size += len(chunk)
        if size > limit:
            raise ToolFailure(RESULT_TOO_LARGE, f"upstream sent more than the {limit}-byte cap")
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(body: bytes, content_type: str) -> Any:
    if not body:
        return None
    if "json" in content_type:
        try:
            return msgspec.json.decode(body)
        except msgspec.DecodeError:
            raise ToolFailure(INVALID_RESULT, "upstream declared JSON but sent something else") from None
    return body.decode("utf-8", errors="replace")


def _snippet(body: bytes, limit: int = 300) -> str:
    text = body.decode("utf-8", errors="replace").strip()
    try:
        detail = msgspec.json.decode(body)
        if isinstance(detail, dict) and isinstance(detail.get("error"), dict):
            text = str(detail["error"].get("message", text))
    except msgspec.DecodeError:
        pass
    return text[:limit]
