"""The ledger's calls as the operator console reads them: one row per LLM call, tool call, memory write and
agent turn (projected beside usage_daily, exactly once), the filters on them, and one request's turn."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import msgspec

from domain.ledger.events import (
    AgentTurnCompleted,
    LlmCallRecorded,
    MemoryForgotten,
    MemoryStored,
    ToolInvoked,
)

KINDS: tuple[str, ...] = ("llm", "tool", "memory", "turn")


class LedgerCall(msgspec.Struct, frozen=True):
    position: int          # the event's place in the ledger; newest calls have the highest
    request_id: str
    at: datetime           # when the call ended (the event's time)
    kind: str              # llm | tool | memory | turn
    agent_id: str
    microdao_id: str
    subject: str           # logical model, tool id, memory operation or channel
    status: str
    latency_ms: float
    provider: str = ""
    model: str = ""        # the physical model of an LLM call
    error_type: str | None = None
    cost_usd: Decimal | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


class CallFilter(msgspec.Struct, frozen=True):
    """Every field that is set must match; `microdao_id` is also where a scoped operator is confined."""

    microdao_id: str | None = None
    agent_id: str | None = None
    kind: str | None = None
    status: str | None = None
    model: str | None = None   # the logical model of LLM calls
    tool: str | None = None
    limit: int = 100


class ToolUse(msgspec.Struct, frozen=True):
    tool_id: str
    agent_id: str
    calls: int
    failures: int      # ran and failed
    denials: int       # refused by the permissions
    invalid: int       # unknown tool or arguments that do not fit
    avg_latency_ms: float | None


class LedgerActivity(Protocol):
    async def recent(self, where: CallFilter) -> list[LedgerCall]:
        """The newest calls matching `where`, newest first."""
        ...

    async def turn(self, request_id: str, microdao_id: str | None) -> list[LedgerCall]:
        """Every call of one request id, in the order they ended (of `microdao_id` only, when given)."""
        ...

    async def tool_use(self, microdao_id: str | None) -> list[ToolUse]:
        """Calls, failures and denials per tool and agent, over the whole ledger."""
        ...


def call_of(event: Any, position: int) -> LedgerCall | None:
    """The console's row of a ledger event; None for events that are not calls (indexing, identity)."""
    common = {"position": position, "request_id": getattr(event, "request_id", ""), "at": event.timestamp,
              "agent_id": getattr(event, "agent_id", ""), "microdao_id": getattr(event, "microdao_id", "")}
    if isinstance(event, LlmCallRecorded):
        return LedgerCall(**common, kind="llm", subject=event.logical_model, status=event.status,
                          latency_ms=event.latency_ms, provider=event.provider, model=event.physical_model,
                          error_type=event.error_type, cost_usd=event.cost_usd, prompt_tokens=event.prompt_tokens,
                          completion_tokens=event.completion_tokens)
    if isinstance(event, ToolInvoked):
        return LedgerCall(**common, kind="tool", subject=event.tool_id, status=event.status,
                          latency_ms=event.latency_ms, error_type=event.error_type)
    if isinstance(event, MemoryStored):
        return LedgerCall(**common, kind="memory", subject=f"stored {event.tier}/{event.kind}", status="stored",
                          latency_ms=0.0)
    if isinstance(event, MemoryForgotten):
        return LedgerCall(**common, kind="memory", subject=f"forgot {len(event.memory_ids)} {event.tier}",
                          status="forgotten", latency_ms=0.0)
    if isinstance(event, AgentTurnCompleted):
        return LedgerCall(**common, kind="turn", subject=event.channel_id, status=event.status,
                          latency_ms=event.latency_ms, cost_usd=event.cost_usd, prompt_tokens=event.prompt_tokens,
                          completion_tokens=event.completion_tokens)
    return None
