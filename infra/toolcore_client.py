"""Toolcore as the agent runtime calls it: the agent's tools in OpenAI format, and tool calls.

A call never raises for its own failure: denied, invalid, failed or unreachable all come back as a
ToolResult the model reads, because the model should answer anyway (and say what went wrong).
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import msgspec

from domain.agent_types import (
    TOOL_DENIED,
    TOOL_FAILED,
    TOOL_INVALID,
    TOOL_OK,
    TOOL_UNAVAILABLE,
    ToolResult,
    TurnContext,
)
from domain.errors import UpstreamFailed
from infra.service_http import ServiceEndpoint, error_body, headers_for, status_error, transport_error

SERVICE = "toolcore"
_STATUS_OF_REFUSAL = {403: TOOL_DENIED, 400: TOOL_INVALID, 404: TOOL_INVALID, 422: TOOL_INVALID}
_decode = msgspec.json.Decoder()


class ToolcoreClient:
    def __init__(self, http: httpx.AsyncClient, endpoint: ServiceEndpoint) -> None:
        self._http = http
        self._endpoint = endpoint

    async def available(self, context: TurnContext) -> list[dict[str, Any]]:
        params = {"agent_id": context.agent_id, "microdao_id": context.microdao_id, "format": "openai"}
        try:
            response = await self._http.get(self._endpoint.url("/internal/tools"), params=params,
                                            headers=headers_for(context.request_id), timeout=self._endpoint.timeout())
        except httpx.HTTPError as exc:
            raise transport_error(SERVICE, self._endpoint, exc) from None
        if response.status_code != 200:
            raise status_error(SERVICE, response)
        try:
            tools = _decode.decode(response.content)["tools"]
        except (msgspec.DecodeError, KeyError, TypeError):
            raise UpstreamFailed("toolcore sent an unreadable tool list") from None
        return [tool for tool in tools if isinstance(tool, dict)]

    async def call(self, context: TurnContext, tool_id: str, args: dict[str, Any]) -> ToolResult:
        body = {"tool_id": tool_id, "agent_id": context.agent_id, "microdao_id": context.microdao_id, "args": args}
        started = time.perf_counter()
        try:
            response = await self._http.post(self._endpoint.url("/internal/tools/call"),
                                             content=msgspec.json.encode(body),
                                             headers=headers_for(context.request_id), timeout=self._endpoint.timeout())
        except httpx.HTTPError as exc:
            error = transport_error(SERVICE, self._endpoint, exc)
            return ToolResult(TOOL_UNAVAILABLE, _ms(started), error={"type": error.type, "message": error.message})
        if response.status_code != 200:
            status = _STATUS_OF_REFUSAL.get(response.status_code, TOOL_FAILED)
            return ToolResult(status, _ms(started), error=error_body(response.content))
        try:
            outcome = _decode.decode(response.content)
        except msgspec.DecodeError:
            return ToolResult(TOOL_FAILED, _ms(started), error={"type": "invalid_result",
                                                               "message": "toolcore sent an unreadable result"})
        latency = float(outcome.get("latency_ms") or _ms(started))
        if outcome.get("ok"):
            return ToolResult(TOOL_OK, latency, outcome.get("result"))
        return ToolResult(TOOL_FAILED, latency, error=outcome.get("error") or {"type": "tool_error", "message": ""})


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
