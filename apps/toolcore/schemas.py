"""Toolcore DTOs. The call response is built in routes (its `result` key is present even when null)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from apps.common.structs import StrictStruct
from domain.kernel.ids import SubjectId
from domain.kernel.tool_names import TOOL_ID
from domain.tools.model import ToolDefinition, ToolError, ToolOutcome


class ToolCallRequest(StrictStruct):
    """`agent_id` / `microdao_id` are optional: the caller is the key's; when given, they must be the key's."""

    tool_id: Annotated[str, Meta(pattern=TOOL_ID.pattern)]
    agent_id: SubjectId | None = None
    args: Annotated[dict[str, Any], Meta(max_length=1024)] = msgspec.field(default_factory=dict)
    microdao_id: SubjectId | None = None
    idempotency_key: SubjectId | None = None


class ToolView(msgspec.Struct, frozen=True):
    id: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    read_only: bool
    destructive: bool
    idempotent: bool
    timeout_s: float

    @classmethod
    def of(cls, tool: ToolDefinition) -> ToolView:
        return cls(tool.id, tool.description, tool.input_schema, tool.output_schema, tool.read_only,
                   tool.destructive, tool.idempotent, tool.timeout_s)


class ToolList(msgspec.Struct, frozen=True):
    agent_id: str
    microdao_id: str | None
    tools: list[ToolView]


class OpenAIToolList(msgspec.Struct, frozen=True):
    """`tools` is the OpenAI function-calling list as is; function names map back with `tool_id_of`."""

    tools: list[dict[str, Any]]


class ToolCallResponse(msgspec.Struct):
    """What `call_response` builds, for the OpenAPI document: `result` when ok (null too), `error` when not,
    `replayed` when an idempotency key's earlier outcome is returned."""

    ok: bool
    latency_ms: float
    result: Any = None
    error: ToolError | None = None
    replayed: bool = False


def call_response(outcome: ToolOutcome) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": outcome.ok}
    if outcome.ok:
        body["result"] = outcome.result
    else:
        body["error"] = msgspec.to_builtins(outcome.error)
    body["latency_ms"] = outcome.latency_ms
    if outcome.replayed:
        body["replayed"] = True
    return body
