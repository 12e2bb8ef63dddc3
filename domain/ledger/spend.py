"""Spend over time: per day, split by agent, microDAO, model or provider (the console's Spend page)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Protocol

import msgspec

SPLITS: tuple[str, ...] = ("agent", "microdao", "model", "provider")


class SpendPoint(msgspec.Struct, frozen=True):
    day: date
    key: str              # the agent, microDAO, model route ("logical -> provider/physical") or provider
    llm_calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal


class SpendSeries(Protocol):
    async def daily(self, split: str, since: date, until: date, microdao_id: str | None) -> list[SpendPoint]:
        """LLM spend per (day, key) from `since` to `until` inclusive, of `microdao_id` only when given;
        days without calls have no point."""
        ...

    async def caught_up(self) -> bool:
        """Waits (a few seconds at most) until the projection holds every event committed before the call."""
        ...


def totals(points: list[SpendPoint]) -> dict[str, SpendPoint]:
    """Each key's points added up (`day` is that of its last point)."""
    out: dict[str, SpendPoint] = {}
    for p in points:
        seen = out.get(p.key)
        out[p.key] = p if seen is None else SpendPoint(
            p.day, p.key, seen.llm_calls + p.llm_calls, seen.prompt_tokens + p.prompt_tokens,
            seen.completion_tokens + p.completion_tokens, seen.cost_usd + p.cost_usd)
    return out
