"""Usage reports: what the usage projection answers, grouped by agent, microDAO, model, tool or day."""

from __future__ import annotations

from datetime import date
from typing import Literal, Protocol

import msgspec

Grouping = Literal["agent", "microdao", "model", "tool", "day"]
GROUPINGS: tuple[str, ...] = ("agent", "microdao", "model", "tool", "day")


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
    async def report(self, group_by: str, since: date, until: date, agent_id: str | None = None) -> UsageReport:
        """Rows (of one agent's usage when `agent_id` is given) from the projection once it has caught up with every event committed before the call
        (waiting a few seconds at most; `complete` says whether it did)."""
        ...
