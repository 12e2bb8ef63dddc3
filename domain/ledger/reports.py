"""Usage reports: what the usage projection answers, grouped by agent, microDAO, model, tool or day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal, Protocol

import msgspec

Grouping = Literal["agent", "microdao", "model", "tool", "day"]
GROUPINGS: tuple[str, ...] = ("agent", "microdao", "model", "tool", "day")
TOTAL_KEY = "total"


class UsageRow(msgspec.Struct):
    key: str
    llm_calls: int
    llm_failures: int
    llm_cancelled: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_usd: str
    unpriced_calls: int
    avg_llm_latency_ms: float | None
    tool_calls: int
    tool_failures: int
    memory_writes: int
    agent_turns: int
    avg_turn_cost_usd: str | None
    embedding_calls: int = 0           # POST /v1/embeddings; their tokens and cost are not in the LLM columns
    embedding_tokens: int = 0
    embedding_cost_usd: str = "0.000000"


class UsageReport(msgspec.Struct):
    rows: list[UsageRow]
    complete: bool  # False: the projection had not caught up with the ledger within the wait


class UsageReports(Protocol):
    async def report(
        self, group_by: str, since: date, until: date, agent_id: str | None = None, microdao_id: str | None = None,
    ) -> UsageReport:
        """Rows (of one agent's and/or one microDAO's usage when `agent_id` / `microdao_id` are given) from the
        projection once it has caught up with every event committed before the call (waiting a few seconds at
        most; `complete` says whether it did)."""
        ...


_COUNTS = ("llm_calls", "llm_failures", "llm_cancelled", "prompt_tokens", "completion_tokens", "total_tokens",
           "unpriced_calls", "tool_calls", "tool_failures", "memory_writes", "agent_turns", "embedding_calls",
           "embedding_tokens")


def totals_of(rows: list[UsageRow]) -> UsageRow:
    """The rows' sum: counts and cost add exactly (cost in Decimal, over the six-decimal figures the rows
    show, so the totals row is what a reader adding up the column gets); the averages are weighted by the
    rows' calls and turns."""
    counts = {name: sum(getattr(row, name) for row in rows) for name in _COUNTS}
    latency = sum((row.avg_llm_latency_ms or 0.0) * row.llm_calls for row in rows)
    turn_cost = sum((Decimal(row.avg_turn_cost_usd or 0) * row.agent_turns for row in rows), Decimal(0))
    return UsageRow(
        key=TOTAL_KEY, cost_usd=str(sum((Decimal(row.cost_usd) for row in rows), Decimal("0.000000"))),
        embedding_cost_usd=str(sum((Decimal(row.embedding_cost_usd) for row in rows), Decimal("0.000000"))),
        avg_llm_latency_ms=round(latency / counts["llm_calls"], 3) if counts["llm_calls"] else None,
        avg_turn_cost_usd=str((turn_cost / counts["agent_turns"]).quantize(Decimal("0.000001")))
        if counts["agent_turns"] else None,
        **counts,
    )
