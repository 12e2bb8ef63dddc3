"""Toolcore as the agent runtime calls it: the agent's tools in OpenAI format, and tool calls.

A call never raises for its own failure: denied, invalid, failed or unreachable all come back as a
ToolResult the model reads, because the model should answer anyway (and say what went wrong).
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from domain.agents.model import ToolResult, TurnContext
from domain.kernel.errors import DaarionError, UpstreamFailed
from domain.kernel.tool_calls import ToolCallStatus
from infra.agents.service_http import ServiceEndpoint, ServiceHttp, error_body, status_error

SERVICE = "toolcore"
_STATUS_OF_REFUSAL = {403: ToolCallStatus.DENIED, 400: ToolCallStatus.INVALID, 404: ToolCallStatus.INVALID, 422: ToolCallStatus.INVALID}


class ToolcoreClient:
    def __init__(self, http: ServiceHttp, endpoint: ServiceEndpoint) -> None:
        self._http = http
        self._endpoint = endpoint

    async def available(self, context: TurnContext) -> list[dict[str, Any]]:
        params = {"agent_id": context.agent_id, "microdao_id": context.microdao_id, "format": "openai"}
        reply = await self._http.call(SERVICE, self._endpoint, "GET", "/internal/tools", context,
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
                                          context, body)
        except DaarionError as exc:  # unreachable or too slow: the model reads that, the turn goes on
            return ToolResult(ToolCallStatus.UNAVAILABLE, _ms(started), error={"type": exc.type, "message": exc.message})
        if reply.status != 200:
            status = _STATUS_OF_REFUSAL.get(reply.status, ToolCallStatus.FAILED)
            return ToolResult(status, _ms(started), error=error_body(reply.content))
        try:
            outcome = reply.json()
        except msgspec.DecodeError:
            return ToolResult(ToolCallStatus.FAILED, _ms(started), error={"type": "invalid_result",
                                                               "message": "toolcore sent an unreadable result"})
        latency = float(outcome.get("latency_ms") or _ms(started))
        if outcome.get("ok"):
            return ToolResult(ToolCallStatus.SUCCEEDED, latency, outcome.get("result"))
        return ToolResult(ToolCallStatus.FAILED, latency, error=outcome.get("error") or {"type": "tool_error", "message": ""})

def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
