"""The usage ledger: every LLM call, tool invocation, memory write and agent turn, as a domain event.

Each recorded fact is the creation event of its own `LedgerEntry` aggregate (a fresh UUID, version 1),
so concurrent calls of one agent never contend for one aggregate and never conflict. Stored events are
forever: payloads are primitives (Decimal for money), new fields must come with defaults.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic


class LedgerEntry(Aggregate):
    """A fact written once. Its state is the event itself; nothing ever mutates it."""

    @classmethod
    def of(cls, event_class: type[Aggregate.Created], entry_id: uuid.UUID, **facts: Any) -> LedgerEntry:
        """The entry whose creation event is `event_class(**facts)`, under an id the caller chose."""
        return cls._create(event_class, id=entry_id, **facts)


class LlmCallRecorded(Aggregate.Created):
    """Fields shared by every LLM call outcome."""

    request_id: str
    agent_id: str
    microdao_id: str
    logical_model: str
    provider: str
    physical_model: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    cost_usd: Decimal | None
    cost_known: bool
    status: str
    error_type: str | None
    stream: bool
    fallbacks: int = 0


class LlmCallCompleted(LlmCallRecorded):
    pass


class LlmCallFailed(LlmCallRecorded):
    pass


class LlmCallCancelled(LlmCallRecorded):
    """The client went away mid-stream; tokens are those streamed so far."""


class EmbeddingsRecorded(Aggregate.Created):
    """Fields shared by every embeddings call outcome (POST /v1/embeddings)."""

    request_id: str
    agent_id: str
    microdao_id: str
    logical_model: str
    provider: str
    physical_model: str
    inputs: int
    prompt_tokens: int
    dimensions: int
    latency_ms: float
    cost_usd: Decimal | None
    cost_known: bool
    status: str
    error_type: str | None
    fallbacks: int = 0


class EmbeddingsCompleted(EmbeddingsRecorded):
    pass


class EmbeddingsFailed(EmbeddingsRecorded):
    pass


class ToolInvoked(Aggregate.Created):
    request_id: str
    tool_id: str
    agent_id: str
    microdao_id: str
    status: str
    error_type: str | None
    latency_ms: float
    argument_bytes: int
    arguments: str | None = None
    replayed: bool = False  # an idempotent replay: the first outcome returned again, the tool not run


class MemoryStored(Aggregate.Created):
    request_id: str
    memory_id: str
    agent_id: str
    microdao_id: str
    tier: str
    kind: str
    content_bytes: int


class MemoryUpdated(Aggregate.Created):
    """A correction of a memory (PATCH .../{id}): the version it made, sizes and content hashes only. The
    texts stay out of the ledger, which is forever: they live beside the memory (memory_versions), and
    forgetting the memory erases them."""

    request_id: str
    memory_id: str
    agent_id: str
    microdao_id: str
    tier: str
    kind: str
    version: int
    old_content_hash: str
    new_content_hash: str
    old_content_bytes: int
    new_content_bytes: int


class MemoryIndexed(Aggregate.Created):
    memory_id: str
    agent_id: str
    microdao_id: str
    tier: str
    chunks: int
    embedding_model: str
    dimensions: int


class MemoryForgotten(Aggregate.Created):
    request_id: str
    agent_id: str
    microdao_id: str
    memory_ids: list[str]
    tier: str = "mid"


class AgentTurnCompleted(Aggregate.Created):
    request_id: str
    agent_id: str
    microdao_id: str
    channel_id: str
    steps: int
    tools_used: list[str]
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal | None
    latency_ms: float
    status: str = "completed"


class AgentRegistered(Aggregate.Created):
    """The audit trail of identity lives in the same ledger as usage: who registered, issued, revoked."""

    agent_id: str
    microdao_id: str
    actor: str            # the operator key's id, or "config" / "cli" for seeds and the local CLI


class AgentDisabled(Aggregate.Created):
    agent_id: str
    microdao_id: str
    actor: str


class ApiKeyIssued(Aggregate.Created):
    key_id: str
    agent_id: str | None
    microdao_id: str | None
    scopes: list[str]
    name: str
    expires_at: str | None
    monthly_budget_usd: Decimal | None
    actor: str
    replaces_key_id: str | None = None


class ApiKeyRevoked(Aggregate.Created):
    key_id: str
    agent_id: str | None
    microdao_id: str | None
    actor: str
    reason: str               # "revoked" or "rotated"
    effective_at: str


def new_entry(event_class: type[Aggregate.Created], **facts: Any) -> LedgerEntry:
    """A ledger entry not yet saved; the writer saves many in one transaction (group commit)."""
    return LedgerEntry.of(event_class, uuid.uuid4(), **facts)


# Stored events name their classes by topic ("module:qualname"). Until the contexts became packages
# these classes lived in the module `domain.ledger`; the events stored then must keep resolving.
for _stored in (LedgerEntry, LlmCallCompleted, LlmCallFailed, LlmCallCancelled, ToolInvoked, MemoryStored,
                MemoryIndexed, MemoryForgotten, AgentTurnCompleted):
    register_topic(f"domain.ledger:{_stored.__qualname__}", _stored)
