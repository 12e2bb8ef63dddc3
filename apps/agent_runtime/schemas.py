"""Agent runtime DTOs: the strict message body, and the turn's response body and SSE events."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from apps.common.structs import StrictStruct
from domain.agents.model import (
    MemoriesRecalled,
    ReplyDelta,
    ToolCalled,
    ToolRun,
    TurnDone,
    TurnEvent,
    TurnResult,
    TurnUsage,
)
from domain.kernel.ids import ExternalId, SubjectId


class MessageIn(StrictStruct):
    channel_id: ExternalId
    user_id: SubjectId
    text: Annotated[str, Meta(min_length=1, max_length=16_000)]
    microdao_id: SubjectId | None = None  # the key says which; one named here must be the key's


class TurnResponse(msgspec.Struct):
    """What `response_body` builds, for the OpenAPI document (and the `done` event's data)."""

    reply: str
    tool_calls: list[ToolRun]
    memories_used: list[str]
    usage: TurnUsage
    request_id: str
    warnings: list[str]
    grounding: str  # the runtime's check of the reply: "passed", "failed: <why>" (not remembered), "" unchecked


class MemoriesEvent(msgspec.Struct):
    ids: list[str]


class DeltaEvent(msgspec.Struct):
    text: str


def response_body(result: TurnResult) -> dict[str, Any]:
    """`{"reply", "tool_calls", "memories_used", "usage", "request_id", "warnings", "grounding"}`; timings go to
    a header."""
    body: dict[str, Any] = msgspec.to_builtins(result)
    del body["timings_ms"], body["steps"]
    return body


def server_timing(result: TurnResult) -> str:
    """Where the turn's time went, in the standard Server-Timing header (bench/agent_turn.py reads it)."""
    return ", ".join(f"{phase};dur={ms:.3f}" for phase, ms in result.timings_ms.items())


def sse(event: TurnEvent) -> bytes:
    if isinstance(event, TurnDone):
        name, data = "done", response_body(event.result)
    elif isinstance(event, ReplyDelta):
        name, data = "delta", {"text": event.text}
    elif isinstance(event, ToolCalled):
        name, data = "tool_call", msgspec.to_builtins(event.call)
    else:
        assert isinstance(event, MemoriesRecalled)
        name, data = "memories", {"ids": event.ids}
    return f"event: {name}\ndata: ".encode() + msgspec.json.encode(data) + b"\n\n"

