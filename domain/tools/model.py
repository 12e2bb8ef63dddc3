"""Tools: what an agent may call, the call itself, its outcome, and the OpenAI function-name mapping.

A tool failure (timeout, upstream error, bad result) is an *outcome* the agent reads, not an exception
that escapes the service: executors raise `ToolFailure`, the ToolService turns it into
`ToolOutcome(ok=False, error=...)`. Requests that must not run at all (denied, unknown tool, invalid
arguments) are domain errors instead and map to 403/404/422.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from domain.kernel.credential import Credential
from domain.kernel.tool_names import openai_name

# Which of the caller's ids an identity argument carries (see domain/tools/identity.py).
IdentityKind = Literal["agent", "microdao"]


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
    identity_args: dict[str, IdentityKind] = msgspec.field(default_factory=dict)  # argument -> whose id

    def attempts_for(self, call: ToolCall) -> int:
        """Retrying a call that changes state is only safe when running it twice cannot do it twice."""
        may_retry = self.idempotent or call.idempotency_key is not None
        return 1 + (self.retries if may_retry else 0)


class ToolCall(msgspec.Struct, frozen=True):
    """`agent_id` and `microdao_id` are the authenticated caller's (the apps take them from the key)."""

    request_id: str
    tool_id: str
    agent_id: str
    args: dict[str, Any]
    microdao_id: str | None = None
    idempotency_key: str | None = None
    credential: Credential | None = None


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
