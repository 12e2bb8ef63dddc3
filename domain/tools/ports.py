"""What the tool service needs: a registry, executors, argument checks, idempotency records, metrics."""

from __future__ import annotations

from typing import Any, Protocol

from domain.tools.model import ToolCall, ToolDefinition, ToolOutcome


class ToolRegistry(Protocol):
    """Where tool definitions come from (YAML today; a database-backed registry can replace it)."""

    def get(self, tool_id: str) -> ToolDefinition | None: ...

    def all(self) -> list[ToolDefinition]: ...


class ToolExecutor(Protocol):
    async def execute(self, tool: ToolDefinition, call: ToolCall, attempts: int) -> Any:
        """Runs the tool, trying up to `attempts` times where the executor retries; returns its JSON result.

        Raises domain.tools.model.ToolFailure for every failure the agent should read (timeout, upstream error...).
        """
        ...


class ArgumentValidator(Protocol):
    def argument_errors(self, tool: ToolDefinition, args: dict[str, Any]) -> list[dict[str, str]]:
        """One {"path", "message"} per violation of the tool's input schema; empty when valid."""
        ...

    def result_errors(self, tool: ToolDefinition, result: Any) -> list[dict[str, str]]:
        """Violations of the tool's output schema (none when the tool declares no output schema)."""
        ...


class IdempotencyStore(Protocol):
    """Keys belong to one agent (of one microDAO): another agent's identical key is another key."""

    async def claim(
        self, agent_id: str, microdao_id: str, key: str, tool_id: str, fingerprint: str, lease_s: float,
    ) -> ToolOutcome | None:
        """None: the key is now ours, run the tool. An outcome: the first call's, replay it.

        Raises Conflict when the key is in use by a running call or was used for a different tool or arguments.
        """
        ...

    async def complete(self, agent_id: str, microdao_id: str, key: str, outcome: ToolOutcome) -> None: ...

    async def release(self, agent_id: str, microdao_id: str, key: str) -> None:
        """Gives the key back when the call ended without an outcome (crash, cancellation)."""
        ...


class ToolMetrics(Protocol):
    def call_finished(self, tool_id: str, status: str, error_type: str | None, latency_s: float) -> None: ...
