"""Fakes for Toolcore's ports (domain unit tests): in-memory twins with what tests need to observe."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domain.kernel.errors import Conflict
from domain.ledger.events import LedgerEntry
from domain.tools.model import ToolCall, ToolDefinition, ToolOutcome


class FakeRegistry:
    def __init__(self, tools: list[ToolDefinition]) -> None:
        self._tools = {tool.id: tool for tool in tools}

    def get(self, tool_id: str) -> ToolDefinition | None:
        return self._tools.get(tool_id)

    def all(self) -> list[ToolDefinition]:
        return list(self._tools.values())


class FakeExecutor:
    """Returns `result`, or raises `failure`; remembers every (tool, call, attempts) it was given."""

    def __init__(self, result: Any = None, failure: Exception | None = None) -> None:
        self.result = result
        self.failure = failure
        self.calls: list[tuple[str, ToolCall, int]] = []

    async def execute(self, tool: ToolDefinition, call: ToolCall, attempts: int) -> Any:
        self.calls.append((tool.id, call, attempts))
        if self.failure is not None:
            raise self.failure
        return self.result


class FakeValidator:
    """Requires the arguments named in the schema's `required`; answers like JsonSchemaValidator."""

    def argument_errors(self, tool: ToolDefinition, args: dict[str, Any]) -> list[dict[str, str]]:
        missing = [name for name in tool.input_schema.get("required", []) if name not in args]
        return [{"path": "$", "message": f"'{name}' is a required property"} for name in missing]

    def result_errors(self, tool: ToolDefinition, result: Any) -> list[dict[str, str]]:
        return []


class FakeIdempotencyStore:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], tuple[str, ToolOutcome | None]] = {}

    async def claim(self, agent_id: str, key: str, tool_id: str, fingerprint: str, lease_s: float) -> ToolOutcome | None:
        row = self.rows.get((agent_id, key))
        if row is None:
            self.rows[(agent_id, key)] = (fingerprint, None)
            return None
        stored_fingerprint, outcome = row
        if stored_fingerprint != fingerprint:
            raise Conflict("key used for a different call")
        if outcome is None:
            raise Conflict("still running")
        return outcome

    async def complete(self, agent_id: str, key: str, outcome: ToolOutcome) -> None:
        fingerprint, _ = self.rows[(agent_id, key)]
        self.rows[(agent_id, key)] = (fingerprint, outcome)

    async def release(self, agent_id: str, key: str) -> None:
        self.rows.pop((agent_id, key), None)


class FakeRecorder:
    def __init__(self) -> None:
        self.events: list[Any] = []

    async def record(self, entry: LedgerEntry) -> int:
        self.events.extend(entry.collect_events())
        return len(self.events)


class FakeToolMetrics:
    def __init__(self) -> None:
        self.finished: list[tuple[str, str, str | None]] = []

    def call_finished(self, tool_id: str, status: str, error_type: str | None, latency_s: float) -> None:
        self.finished.append((tool_id, status, error_type))


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def now(self) -> datetime:
        return datetime(2026, 11, 24, tzinfo=UTC)

    def monotonic(self) -> float:
        self.t += 0.001
        return self.t
