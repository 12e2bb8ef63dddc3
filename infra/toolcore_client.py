"""Toolcore as the agent runtime calls it: the agent's tools in OpenAI format, and tool calls.

A call never raises for its own failure: denied, invalid, failed or unreachable all come back as a
ToolResult the model reads, because the model should answer anyway (and say what went wrong).
"""

from __future__ import annotations

import time
from typing import Any

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
from domain.errors import DaarionError, UpstreamFailed
from infra.service_http import ServiceEndpoint, ServiceHttp, error_body, status_error

SERVICE = "toolcore"
_STATUS_OF_REFUSAL = {403: TOOL_DENIED, 400: TOOL_INVALID, 404: TOOL_INVALID, 422: TOOL_INVALID}


class ToolcoreClient:
    def __init__(self, http: ServiceHttp, endpoint: ServiceEndpoint) -> None:
        self._http = http
        self._endpoint = endpoint

    async def available(self, context: TurnContext) -> list[dict[str, Any]]:
        params = {"agent_id": context.agent_id, "microdao_id": context.microdao_id, "format": "openai"}
        reply = await self._http.call(SERVICE, self._endpoint, "GET", "/internal/tools", context.request_id,
                                      params=params)
        if reply.status != 200:
            raise status_error(SERVICE, reply.status, reply.headers, reply.content)
        try:
            tools = reply.json()["tools"]
        except (msgspec.DecodeError, KeyError, TypeError):
            raise UpstreamFailed("toolcore sent an unreadable tool list") from None
        return [tool for tool in tools if isinstance(tool, dict)]

    async def call(self, context: TurnContext, tool_id: str, args: dict[str, Any]) -> ToolResult:
        body = {"tool_id": tool_id, "agent_id": context.agent_id, "microdao_id": context.microdao_id, "args": args}
        started = time.perf_counter()
        try:
            reply = await self._http.call(SERVICE, self._endpoint, "POST", "/internal/tools/call",
                                          context.request_id, body)
        except DaarionError as exc:  # unreachable or too slow: the model reads that, the turn goes on
            return ToolResult(TOOL_UNAVAILABLE, _ms(started), error={"type": exc.type, "message": exc.message})
        if reply.status != 200:
            status = _STATUS_OF_REFUSAL.get(reply.status, TOOL_FAILED)
            return ToolResult(status, _ms(started), error=error_body(reply.content))
        try:
            outcome = reply.json()
        except msgspec.DecodeError:
            return ToolResult(TOOL_FAILED, _ms(started), error={"type": "invalid_result",
                                                               "message": "toolcore sent an unreadable result"})
        latency = float(outcome.get("latency_ms") or _ms(started))
        if outcome.get("ok"):
            return ToolResult(TOOL_OK, latency, outcome.get("result"))
        return ToolResult(TOOL_FAILED, latency, error=outcome.get("error") or {"type": "tool_error", "message": ""})

def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
