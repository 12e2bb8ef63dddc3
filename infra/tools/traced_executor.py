"""A ToolExecutor seen through OpenTelemetry: each run of a tool is one GenAI `execute_tool {tool}` span.

Only calls that passed the permission, identity and schema checks run, so only they have this span (a refusal is
the server span's 4xx). A ToolFailure marks the span failed with its type (timeout, upstream_error ...). The
arguments and the result are not recorded; the HTTP executor's request is this span's child and carries the
trace on to the tool's service.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import Tracer
from opentelemetry.util.types import AttributeValue

from domain.tools.model import ToolCall, ToolDefinition
from domain.tools.ports import ToolExecutor
from infra.platform import gen_ai
from infra.platform.tracing import active


class TracedToolExecutor:
    def __init__(self, inner: ToolExecutor, kind: str, tracer: Tracer) -> None:
        self._inner = inner
        self._kind = kind
        self._tracer = tracer

    async def execute(self, tool: ToolDefinition, call: ToolCall, attempts: int) -> Any:
        # "extension": run by the agent's side (Toolcore) against an API, not handed back to a client to run.
        attributes: dict[str, AttributeValue] = {gen_ai.OPERATION: "execute_tool", gen_ai.TOOL_NAME: tool.id, gen_ai.TOOL_TYPE: "extension",
                      gen_ai.TOOL_DESCRIPTION: tool.description, gen_ai.AGENT_ID: call.agent_id,
                      "daarion.tool.executor": self._kind, "daarion.tool.attempts": attempts}
        with active(self._tracer.start_span(f"execute_tool {tool.id}", attributes=attributes), end=True):
            return await self._inner.execute(tool, call, attempts)  # a ToolFailure's type is the error.type
