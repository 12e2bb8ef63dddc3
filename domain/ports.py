"""Ports: what the domain needs from the outside world. Adapters live in infra/, fakes in tests/fakes.py."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
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

    def stream(self, model: str, request: ChatRequest, timeout_s: float) -> AsyncGenerator[ChatChunk, None]: ...

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


# --- Memory (imports kept here so this block appends in one edit) ---

import uuid
from collections.abc import Awaitable, Callable, Sequence

from domain.memory import (
    DocumentResult,
    Forgotten,
    MemoryRecord,
    NewDocument,
    NewMemory,
    Scope,
    ShortTermTurn,
    StoreResult,
)
from domain.memory_commands import Search
from domain.memory_queue import IndexedJob, IndexJob, JobFailure, QueueStats
from domain.memory_ranking import Candidate


class Embedder(Protocol):
    """Texts to unit-length vectors; `model` and `dimensions` are stored with every vector it makes."""

    @property
    def model(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order. Raises UpstreamFailed / UpstreamTimeout / ServiceUnavailable."""
        ...

    async def aclose(self) -> None: ...


class MemoryStore(Protocol):
    """Items, their chunks and vectors. Writes are durable when the call returns."""

    async def add_memory(self, memory: NewMemory, index_model: str) -> StoreResult:
        """Stores and enqueues indexing with `index_model`; the same content or idempotency key of the
        same agent returns the existing id (created=False). Raises Conflict when a key is reused for
        other content."""
        ...

    async def put_document(self, document: NewDocument, index_model: str) -> DocumentResult:
        """Creates, replaces (same doc_key, new content: new chunks, same id) or keeps an unchanged one."""
        ...

    async def get(self, item_id: str, model: str) -> MemoryRecord | None: ...

    async def forget(self, item_id: str, tier: str) -> Forgotten | None: ...

    async def forget_agent(self, agent_id: str, microdao_id: str | None) -> list[Forgotten]: ...

    async def recent_turns(self, scope: Scope, channel_id: str, limit: int) -> list[ShortTermTurn]:
        """The latest `limit` conversation turns of the channel, oldest first."""
        ...

    async def vector_search(
        self, search: Search, vector: Sequence[float], model: str, per_leg: int,
    ) -> list[Candidate]:
        """The `per_leg` chunks nearest to `vector` among vectors of `model`, ranked (vector_rank set)."""
        ...

    async def text_search(self, search: Search, per_leg: int) -> list[Candidate]:
        """Up to `per_leg` chunks matching any of the query's words, ranked (text_rank set)."""
        ...


class IndexingQueue(Protocol):
    """The durable indexing queue (see domain.memory_queue for the lease and retry rules)."""

    async def claim(
        self, worker_id: str, model: str, max_jobs: int, lease_s: float, max_attempts: int,
    ) -> list[IndexJob]: ...

    async def complete(
        self, worker_id: str, model: str, dims: int, done: Sequence[IndexedJob],
        before_commit: Callable[[list[IndexJob]], Awaitable[None]],
    ) -> list[IndexJob]:
        """Writes the vectors of the jobs this worker still holds and removes those jobs, in one
        transaction; `before_commit` sees exactly those jobs. Returns them."""
        ...

    async def renew(self, worker_id: str, job_ids: Sequence[int], lease_s: float) -> None:
        """Extends the lease of the jobs this worker still holds."""
        ...

    async def fail(self, worker_id: str, failures: Sequence[JobFailure]) -> None: ...

    async def enqueue_all(self, model: str, force: bool) -> int:
        """Jobs for every item lacking vectors of `model` (all items when `force`); revives dead jobs."""
        ...

    async def stats(self) -> list[QueueStats]: ...


class LedgerLookup(Protocol):
    async def recorded(self, entry_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """The ids among `entry_ids` that the usage ledger already holds."""
        ...


# --- Agent runtime: the other services as the turn sees them (imports kept here so this block appends in one edit) ---

from domain.agent_types import LlmCall, LlmReply, Recall, ToolResult, TurnContext


class AgentMemory(Protocol):
    async def recall(self, context: TurnContext, query: str, tiers: Sequence[str], limit: int) -> Recall:
        """The channel's recent turns and the memories most relevant to `query`.

        Raises ServiceUnavailable / UpstreamFailed / UpstreamTimeout when memory cannot answer."""
        ...

    async def remember(self, context: TurnContext, user_message: str, agent_reply: str) -> list[str]:
        """Stores the turn (durable on return); a retry of the same request stores nothing new."""
        ...


class AgentTools(Protocol):
    async def available(self, context: TurnContext) -> list[dict[str, Any]]:
        """The agent's allowed tools as OpenAI function-calling `tools` entries."""
        ...

    async def call(self, context: TurnContext, tool_id: str, args: dict[str, Any]) -> ToolResult:
        """Never raises for the call's own failure (denied, invalid, failed, unreachable): it is a result."""
        ...


class AgentLlm(Protocol):
    async def complete(self, context: TurnContext, call: LlmCall) -> LlmReply:
        """Raises UpstreamFailed (502) when the proxy is unreachable, else the proxy's own error."""
        ...

    def stream(self, context: TurnContext, call: LlmCall) -> AsyncIterator[str | LlmReply]:
        """Text deltas as they come, then the whole LlmReply (tool calls assembled, usage)."""
        ...
