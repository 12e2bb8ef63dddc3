"""HttpToolExecutor: one tool call as an HTTP request through the SSRF-guarded sessions (infra/tools/ssrf.py).

Retries (exponential backoff with jitter) happen only when the domain grants more than one attempt
(idempotent tool, or a call carrying an idempotency key) and only on connect errors, timeouts and
5xx; a 4xx is the upstream's answer and is handed to the agent. `timeout_s` bounds each attempt,
redirects and body included. Redirects are followed only within the tool's own origin (so secret
headers never travel elsewhere), at most `outbound.max_redirects` hops, each URL checked again. A tool
that forwards the caller's credential runs only against an internal service's origin: the registry
checks that at load, and the executor again before every request.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode, urljoin

import aiohttp
import msgspec
from ssrfguard import SSRFGuardError
from yarl import URL

from domain.kernel.tool_calls import ToolErrorType
from domain.tools.model import ToolCall, ToolDefinition, ToolFailure
from infra.tools.executors.http_request import HttpTarget, OutgoingRequest, build_request, origin_of
from infra.tools.executors.http_response import Retryable, read_result
from infra.tools.ssrf import Outbound, OutboundClients

log = logging.getLogger("daarion.toolcore.http")

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


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
        if target.forward_credential and not self._clients.is_internal(target.origin):
            raise ToolFailure(ToolErrorType.BLOCKED, "destination refused: the caller's credential goes only to "
                                                     "internal services")
        request = build_request(target, call)
        outbound = self._clients.for_origin(target.origin)
        for attempt in range(attempts):
            try:
                async with asyncio.timeout(tool.timeout_s):
                    return await self._once(outbound, target, request, tool)
            except TimeoutError:
                failure: ToolFailure = Retryable(ToolErrorType.TIMEOUT, f"no complete answer within {tool.timeout_s:g}s")
            except Retryable as retryable:
                failure = retryable
            if attempt + 1 >= attempts:
                raise ToolFailure(failure.type, failure.message, failure.status)
            log.info("tool %s attempt %d failed (%s); retrying", tool.id, attempt + 1, failure.type)
            await self._sleep(self._backoff(attempt))
        raise AssertionError("attempts must be at least 1")

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self._backoff_cap_s, self._backoff_base_s * 2**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # jitter: concurrent retries do not march in step

    async def _once(self, outbound: Outbound, target: HttpTarget, request: OutgoingRequest,
                    tool: ToolDefinition) -> Any:
        method = request.method
        url = request.url + ("?" + urlencode(request.params) if request.params else "")
        content = msgspec.json.encode(request.json) if request.json is not None else None
        headers = {**request.headers, "Accept-Encoding": "identity"}
        if content is not None:
            headers["Content-Type"] = "application/json"
        timeout = aiohttp.ClientTimeout(total=tool.timeout_s)
        for _hop in range(self._clients.max_redirects + 1):
            try:
                outbound.policy.check_url(url)
                # encoded=True: the URL is already escaped; letting yarl re-parse it would turn an
                # escaped `%2E%2E` segment back into `..` and resolve it away.
                async with outbound.session.request(method, URL(url, encoded=True), headers=headers, data=content,
                                                    allow_redirects=False, timeout=timeout) as response:
                    location = response.headers.get("Location")
                    if response.status not in _REDIRECTS or location is None:
                        return await read_result(response, tool.max_result_bytes, request.secrets)
            except SSRFGuardError as exc:
                # The URL may carry argument values, so the log names the tool and the rule type only.
                log.warning("tool %s: destination refused by the SSRF guard (%s)", tool.id, type(exc).__name__)
                raise ToolFailure(ToolErrorType.BLOCKED, f"destination refused: {exc}") from None
            except aiohttp.InvalidURL as exc:
                raise ToolFailure(ToolErrorType.BLOCKED, f"destination refused: invalid URL ({exc})") from None
            except TimeoutError:
                raise Retryable(ToolErrorType.TIMEOUT, f"no complete answer within {tool.timeout_s:g}s") from None
            except aiohttp.ClientConnectorError:
                raise Retryable(ToolErrorType.UPSTREAM_ERROR, "could not connect to the upstream service") from None
            except aiohttp.ClientError as exc:
                raise ToolFailure(ToolErrorType.UPSTREAM_ERROR, f"upstream failed: {type(exc).__name__}") from None
            url = _same_origin_hop(url, location, target)
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, content = "GET", None
                headers.pop("Content-Type", None)
        raise ToolFailure(ToolErrorType.UPSTREAM_ERROR, f"more than {self._clients.max_redirects} redirects")


def _same_origin_hop(url: str, location: str, target: HttpTarget) -> str:
    following = urljoin(url, location)
    try:
        same = origin_of(following) == target.origin
    except ValueError:
        same = False
    if not same:
        raise ToolFailure(ToolErrorType.BLOCKED, f"destination refused: a redirect to {following[:200]!r} leaves the tool's "
                                   f"origin; only redirects within it are followed")
    return following


