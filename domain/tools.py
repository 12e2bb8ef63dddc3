"""Tools: what an agent may call, the call itself, its outcome, and the OpenAI function-name mapping.

A tool failure (timeout, upstream error, bad result) is an *outcome* the agent reads, not an exception
that escapes the service: executors raise `ToolFailure`, the ToolService turns it into
`ToolOutcome(ok=False, error=...)`. Requests that must not run at all (denied, unknown tool, invalid
arguments) are domain errors instead and map to 403/404/422.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

TOOL_ID = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")
OPENAI_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

EXECUTORS = ("http", "python")

# Stable `error.type` values an agent can branch on.
TIMEOUT = "timeout"
UPSTREAM_ERROR = "upstream_error"
UPSTREAM_REJECTED = "upstream_rejected"
INVALID_RESULT = "invalid_result"
RESULT_TOO_LARGE = "result_too_large"
BLOCKED = "blocked"
TOOL_ERROR = "tool_error"
NOT_CONFIGURED = "not_configured"
BUSY = "busy"
# Failures another attempt might not meet; an idempotency key is not spent on them.
TRANSIENT = frozenset({TIMEOUT, UPSTREAM_ERROR, BUSY})


class ToolDefinition(msgspec.Struct, frozen=True):
    id: str
    description: str
    input_schema: dict[str, Any]
    executor: str
    output_schema: dict[str, Any] | None = None
    timeout_s: float = 10.0
    retries: int = 0
    idempotent: bool = False
    read_only: bool = False
    destructive: bool = False
    max_result_bytes: int = 65536
    safe_to_log: bool = False

    def attempts_for(self, call: ToolCall) -> int:
        """Retrying a call that changes state is only safe when running it twice cannot do it twice."""
        may_retry = self.idempotent or call.idempotency_key is not None
        return 1 + (self.retries if may_retry else 0)


class ToolCall(msgspec.Struct, frozen=True):
    request_id: str
    tool_id: str
    agent_id: str
    args: dict[str, Any]
    microdao_id: str | None = None
    idempotency_key: str | None = None


class ToolError(msgspec.Struct, frozen=True, omit_defaults=True):
    type: str
    message: str
    status: int | None = None


class ToolOutcome(msgspec.Struct, frozen=True, omit_defaults=True):
    ok: bool
    latency_ms: float
    result: Any = None
    error: ToolError | None = None
    replayed: bool = False


class ToolFailure(Exception):
    """Raised by executors; becomes an `ok: false` outcome, never an HTTP error."""

    def __init__(self, type_: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.type = type_
        self.message = message
        self.status = status

    def as_error(self) -> ToolError:
        return ToolError(self.type, self.message, self.status)


def openai_name(tool_id: str) -> str:
    """`projects.list` -> `projects__list`: OpenAI function names may not contain dots.

    Reversible for every id `mapping_problem` accepts (no `__`, no `_` beside a `.`), which the
    registry checks at load, so a name the LLM answers with always leads back to exactly one tool.
    """
    return tool_id.replace(".", "__")


def tool_id_of(function_name: str) -> str:
    return function_name.replace("__", ".")


def mapping_problem(tool_id: str) -> str | None:
    """Why `tool_id` cannot round-trip through an OpenAI function name, or None when it can."""
    if not TOOL_ID.match(tool_id):
        return f"tool id {tool_id!r} must match {TOOL_ID.pattern}"
    if "__" in tool_id or "_." in tool_id or "._" in tool_id:
        return f"tool id {tool_id!r} may not contain '__', '_.' or '._' (its OpenAI name would be ambiguous)"
    name = openai_name(tool_id)
    if not OPENAI_NAME.match(name):
        return f"tool id {tool_id!r} maps to OpenAI name {name!r}, longer than 64 characters"
    return None


def openai_tool(tool: ToolDefinition) -> dict[str, Any]:
    """One entry of the OpenAI `tools` list, ready to hand to the LLM."""
    return {
        "type": "function",
        "function": {
            "name": openai_name(tool.id),
            "description": tool.description,
            "parameters": tool.input_schema,
        },
    }
