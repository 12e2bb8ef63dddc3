"""Ports: what the domain needs from the outside world. Adapters live in infra/, fakes in tests/fakes.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from typing import Protocol

import msgspec

from domain.ledger import LedgerEntry
from domain.llm import ChatChunk, ChatRequest, ChatResult, RateLimit


class ChatProvider(Protocol):
    """One LLM backend. Raises domain.llm.ProviderError, classified for fallback."""

    name: str

    async def complete(self, model: str, request: ChatRequest, timeout_s: float) -> ChatResult: ...

    def stream(self, model: str, request: ChatRequest, timeout_s: float) -> AsyncIterator[ChatChunk]: ...

    async def aclose(self) -> None: ...


class Admission(msgspec.Struct, frozen=True):
    """A granted slot in an agent's rate window, with the tokens reserved for it."""

    agent_id: str
    window_start: int
    reserved_tokens: int


class RateLimiter(Protocol):
    async def admit(self, agent_id: str, limit: RateLimit, tokens: int) -> Admission:
        """Atomically takes one request and `tokens` from the agent's window or raises RateLimited."""
        ...

    async def reconcile(self, admission: Admission, actual_tokens: int) -> None:
        """Gives back (or charges) the difference between reserved and actual tokens."""
        ...


class SpendReader(Protocol):
    async def month_to_date_usd(self, agent_id: str, microdao_id: str) -> tuple[Decimal, Decimal]:
        """(agent's spend, microDAO's spend) this calendar month, from the usage projection."""
        ...


class UsageRecorder(Protocol):
    async def record(self, entry: LedgerEntry) -> int:
        """Returns once the entry is committed; the result is its ledger position."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class GatewayMetrics(Protocol):
    def provider_error(self, provider: str, kind: str) -> None: ...

    def fallback(self, from_provider: str) -> None: ...

    def call_finished(
        self, agent_id: str, logical_model: str, status: str, prompt_tokens: int, completion_tokens: int,
        cost_usd: Decimal | None,
    ) -> None: ...


# --- Toolcore and the demo projects service (imports kept here so this block appends in one edit) ---

from typing import Any

from domain.projects import Project, Task, TaskDraft
from domain.tools import ToolCall, ToolDefinition, ToolOutcome


class ToolRegistry(Protocol):
    """Where tool definitions come from (YAML today; a database-backed registry can replace it)."""

    def get(self, tool_id: str) -> ToolDefinition | None: ...

    def all(self) -> list[ToolDefinition]: ...


class ToolExecutor(Protocol):
    async def execute(self, tool: ToolDefinition, call: ToolCall, attempts: int) -> Any:
        """Runs the tool, trying up to `attempts` times where the executor retries; returns its JSON result.

        Raises domain.tools.ToolFailure for every failure the agent should read (timeout, upstream error...).
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
    async def claim(
        self, agent_id: str, key: str, tool_id: str, fingerprint: str, lease_s: float,
    ) -> ToolOutcome | None:
        """None: the key is now ours, run the tool. An outcome: the first call's, replay it.

        Raises Conflict when the key is in use by a running call or was used for a different tool or arguments.
        """
        ...

    async def complete(self, agent_id: str, key: str, outcome: ToolOutcome) -> None: ...

    async def release(self, agent_id: str, key: str) -> None:
        """Gives the key back when the call ended without an outcome (crash, cancellation)."""
        ...


class ToolMetrics(Protocol):
    def call_finished(self, tool_id: str, status: str, error_type: str | None, latency_s: float) -> None: ...


class ProjectStore(Protocol):
    async def projects_of(self, microdao_id: str) -> list[Project]: ...

    async def recent_tasks(self, microdao_id: str, project_id: str, limit: int, status: str | None) -> list[Task]:
        """Newest first; raises NotFound when the project is not one of the microDAO's."""
        ...

    async def create_task(
        self, microdao_id: str, project_id: str, draft: TaskDraft, idempotency_key: str | None,
    ) -> tuple[Task, bool]:
        """(task, created): a repeated idempotency key returns the task it created the first time."""
        ...
