"""Usage projection: folds ledger events into per-day counters. Pure; infra persists the result.

One row per (day, kind, agent, microDAO, subject, provider, physical model) so every report — by agent,
microDAO, model, tool or day — is a GROUP BY over the same rows. `subject` is the logical model for
LLM and embeddings calls, the tool id for tool calls, the operation for memory writes and the channel for agent turns.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec

from domain.kernel.tool_calls import ToolCallStatus
from domain.ledger.events import (
    AgentTurnCompleted,
    EmbeddingsFailed,
    EmbeddingsRecorded,
    LlmCallCancelled,
    LlmCallFailed,
    LlmCallRecorded,
    MemoryForgotten,
    MemoryIndexed,
    MemoryStored,
    MemoryUpdated,
    ToolInvoked,
)


class UsageKey(msgspec.Struct, frozen=True):
    day: date
    kind: str
    agent_id: str
    microdao_id: str
    subject: str
    provider: str = ""
    physical_model: str = ""


class UsageCounters(msgspec.Struct):
    calls: int = 0
    failures: int = 0
    cancelled: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    unpriced_calls: int = 0
    latency_ms_sum: Decimal = Decimal(0)  # exact, so any batching of a rebuild sums to the same total
    bytes: int = 0

    def add(self, other: UsageCounters) -> None:
        self.calls += other.calls
        self.failures += other.failures
        self.cancelled += other.cancelled
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cost_usd += other.cost_usd
        self.unpriced_calls += other.unpriced_calls
        self.latency_ms_sum += other.latency_ms_sum
        self.bytes += other.bytes


def usage_of(event: Any) -> tuple[UsageKey, UsageCounters] | None:
    day = event.timestamp.date()
    if isinstance(event, LlmCallRecorded):
        key = UsageKey(day, "llm", event.agent_id, event.microdao_id, event.logical_model, event.provider,
                       event.physical_model)
        return key, UsageCounters(
            calls=1,
            failures=int(isinstance(event, LlmCallFailed)),
            cancelled=int(isinstance(event, LlmCallCancelled)),
            prompt_tokens=event.prompt_tokens,
            completion_tokens=event.completion_tokens,
            cost_usd=event.cost_usd or Decimal(0),
            unpriced_calls=int(not event.cost_known),
            latency_ms_sum=_milliseconds(event.latency_ms),
        )
    if isinstance(event, EmbeddingsRecorded):
        key = UsageKey(day, "embeddings", event.agent_id, event.microdao_id, event.logical_model, event.provider,
                       event.physical_model)
        return key, UsageCounters(
            calls=1, failures=int(isinstance(event, EmbeddingsFailed)), prompt_tokens=event.prompt_tokens,
            cost_usd=event.cost_usd or Decimal(0), unpriced_calls=int(not event.cost_known),
            latency_ms_sum=_milliseconds(event.latency_ms),
        )
    if isinstance(event, ToolInvoked):
        key = UsageKey(day, "tool", event.agent_id, event.microdao_id, event.tool_id)
        return key, UsageCounters(
            calls=1, failures=int(event.status != ToolCallStatus.SUCCEEDED), latency_ms_sum=_milliseconds(event.latency_ms),
            bytes=event.argument_bytes,
        )
    if isinstance(event, MemoryStored):
        key = UsageKey(day, "memory", event.agent_id, event.microdao_id, "stored")
        return key, UsageCounters(calls=1, bytes=event.content_bytes)
    if isinstance(event, MemoryUpdated):
        key = UsageKey(day, "memory", event.agent_id, event.microdao_id, "updated")
        return key, UsageCounters(calls=1, bytes=event.new_content_bytes)
    if isinstance(event, MemoryIndexed):
        key = UsageKey(day, "memory", event.agent_id, event.microdao_id, "indexed", "", event.embedding_model)
        return key, UsageCounters(calls=1)
    if isinstance(event, MemoryForgotten):
        key = UsageKey(day, "memory", event.agent_id, event.microdao_id, "forgotten")
        return key, UsageCounters(calls=len(event.memory_ids))
    if isinstance(event, AgentTurnCompleted):
        key = UsageKey(day, "turn", event.agent_id, event.microdao_id, event.channel_id)
        return key, UsageCounters(
            calls=1, failures=int(event.status != "completed"), prompt_tokens=event.prompt_tokens,
            completion_tokens=event.completion_tokens, cost_usd=event.cost_usd or Decimal(0),
            unpriced_calls=int(event.cost_usd is None), latency_ms_sum=_milliseconds(event.latency_ms),
        )
    return None


def fold_usage(events: Iterable[Any]) -> dict[UsageKey, UsageCounters]:
    totals: dict[UsageKey, UsageCounters] = {}
    for event in events:
        found = usage_of(event)
        if found is None:
            continue
        key, counters = found
        totals.setdefault(key, UsageCounters()).add(counters)
    return totals


_MICROSECOND = Decimal("0.001")


def _milliseconds(latency_ms: float) -> Decimal:
    return Decimal(repr(latency_ms)).quantize(_MICROSECOND)
