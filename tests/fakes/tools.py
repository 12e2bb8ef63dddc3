"""Fakes for Toolcore's ports (domain unit tests): in-memory twins with what tests need to observe."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.kernel.clock import Clock
from domain.kernel.errors import Conflict
from domain.kernel.tool_calls import ToolErrorType
from domain.tools.model import ToolCall, ToolDefinition, ToolFailure, ToolOutcome
from tests.fakes.clock import FakeClock


class FakeRegistry:
    """The ToolRegistry twin: the definitions it was given, in order (a later one of the same id wins)."""

    def __init__(self, tools: list[ToolDefinition]) -> None:
        self._tools = {tool.id: tool for tool in tools}

    def get(self, tool_id: str) -> ToolDefinition | None:
        return self._tools.get(tool_id)

    def all(self) -> list[ToolDefinition]:
        return list(self._tools.values())


class FakeExecutor:
    """Returns `result`, or raises `failure`, after `delay_s`; remembers every (tool, call, attempts) it was
    given. A delay past the tool's timeout ends, as the real executors' do, at the timeout as a `timeout`."""

    def __init__(self, result: Any = None, failure: Exception | None = None, delay_s: float = 0.0) -> None:
        self.result = result
        self.failure = failure
        self.delay_s = delay_s
        self.calls: list[tuple[str, ToolCall, int]] = []

    async def execute(self, tool: ToolDefinition, call: ToolCall, attempts: int) -> Any:
        self.calls.append((tool.id, call, attempts))
        if self.delay_s > tool.timeout_s:
            await asyncio.sleep(tool.timeout_s)
            raise ToolFailure(ToolErrorType.TIMEOUT, f"{tool.id} did not finish within {tool.timeout_s:g}s")
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.failure is not None:
            raise self.failure
        return self.result


class FakeValidator:
    """The ArgumentValidator twin for what unit tests need of JSON Schema: the top-level type, required
    properties and the types of properties, with JsonSchemaValidator's paths, messages and order."""

    def argument_errors(self, tool: ToolDefinition, args: dict[str, Any]) -> list[dict[str, str]]:
        return _schema_errors(tool.input_schema, args)

    def result_errors(self, tool: ToolDefinition, result: Any) -> list[dict[str, str]]:
        return [] if tool.output_schema is None else _schema_errors(tool.output_schema, result)


_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict, "array": list, "string": str, "integer": int, "number": (int, float), "boolean": bool,
    "null": type(None),
}


def _is(value: Any, name: str) -> bool:
    if isinstance(value, bool) and name in ("integer", "number"):
        return False  # JSON has no booleans among its numbers
    if name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES.get(name, object))


def _schema_errors(schema: dict[str, Any], value: Any) -> list[dict[str, str]]:
    expected = schema.get("type")
    if isinstance(expected, str) and not _is(value, expected):
        return [{"path": "$", "message": f"{value!r} is not of type {expected!r}"}]
    if not isinstance(value, dict):
        return []
    errors = [{"path": "$", "message": f"{name!r} is a required property"}
              for name in schema.get("required", []) if name not in value]
    for name, spec in schema.get("properties", {}).items():
        kind = spec.get("type")
        if name in value and isinstance(kind, str) and not _is(value[name], kind):
            errors.append({"path": f"$.{name}", "message": f"{value[name]!r} is not of type {kind!r}"})
    return sorted(errors, key=lambda error: (error["path"].split(".")[1:], error["message"]))


@dataclass
class _Key:
    tool_id: str
    fingerprint: str
    created_at: datetime
    lease_until: datetime
    outcome: ToolOutcome | None = None


class FakeIdempotencyStore:
    """The IdempotencyStore twin, with PgIdempotencyStore's rules: a running claim whose lease passed may
    be taken over, a finished key is kept for `retention_s`; time is `clock`'s. Rows are the tenant's own:
    (microDAO, agent, key)."""

    def __init__(self, clock: Clock | None = None, retention_s: float = 24 * 3600) -> None:
        self.clock = clock or FakeClock()
        self.retention = timedelta(seconds=retention_s)
        self.rows: dict[tuple[str, str, str], _Key] = {}

    async def claim(self, agent_id: str, microdao_id: str, key: str, tool_id: str, fingerprint: str,
                    lease_s: float) -> ToolOutcome | None:
        now, row = self.clock.now(), self.rows.get((microdao_id, agent_id, key))
        if (row is None or (row.outcome is None and row.lease_until < now)
                or (row.outcome is not None and row.created_at < now - self.retention)):
            self.rows[(microdao_id, agent_id, key)] = _Key(tool_id, fingerprint, now, now + timedelta(seconds=lease_s))
            return None
        if (row.tool_id, row.fingerprint) != (tool_id, fingerprint):
            raise Conflict(f"idempotency key {key!r} was already used for a different call; use a new key")
        if row.outcome is None:
            raise Conflict(f"a call with idempotency key {key!r} is still running; retry shortly")
        return row.outcome

    async def complete(self, agent_id: str, microdao_id: str, key: str, outcome: ToolOutcome) -> None:
        row = self.rows.get((microdao_id, agent_id, key))
        if row is not None:
            row.outcome = outcome

    async def release(self, agent_id: str, microdao_id: str, key: str) -> None:
        row = self.rows.get((microdao_id, agent_id, key))
        if row is not None and row.outcome is None:  # a finished key keeps its outcome
            del self.rows[(microdao_id, agent_id, key)]


class FakeToolMetrics:
    def __init__(self) -> None:
        self.finished: list[tuple[str, str, str | None]] = []

    def call_finished(self, tool_id: str, status: str, error_type: str | None, latency_s: float) -> None:
        self.finished.append((tool_id, status, error_type))
