"""The vocabulary of a tool call that Toolcore, the agent runtime and the ledger share.

`ToolCallStatus` values are stored in `ToolInvoked` events, so they never change; the agent runtime
adds two statuses of its own for calls that never reached Toolcore. `ToolErrorType` values are the
`error.type` an agent can branch on.
"""

from __future__ import annotations

from enum import StrEnum


class ToolCallStatus(StrEnum):
    SUCCEEDED = "succeeded"      # ran and succeeded
    FAILED = "failed"            # ran and failed (timeout, upstream error...): the model reads the error
    DENIED = "denied"            # refused: not in the agent's allowlist
    INVALID = "invalid"          # unknown tool, arguments that do not fit its schema, key conflict
    UNAVAILABLE = "unavailable"  # the agent runtime could not reach Toolcore
    SKIPPED = "skipped"          # the agent runtime's per-step call limit; not sent anywhere


class ToolErrorType(StrEnum):
    TIMEOUT = "timeout"
    UPSTREAM_ERROR = "upstream_error"
    UPSTREAM_REJECTED = "upstream_rejected"
    INVALID_RESULT = "invalid_result"
    RESULT_TOO_LARGE = "result_too_large"
    BLOCKED = "blocked"
    TOOL_ERROR = "tool_error"
    NOT_CONFIGURED = "not_configured"
    MISSING_CONTEXT = "missing_context"  # a microDAO-scoped tool called without a microDAO
    BUSY = "busy"


# Failures another attempt might not meet; an idempotency key is not spent on them.
TRANSIENT: frozenset[str] = frozenset({ToolErrorType.TIMEOUT, ToolErrorType.UPSTREAM_ERROR, ToolErrorType.BUSY})
