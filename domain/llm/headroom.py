"""Budgets and rate limits as an operator sees them now: month-to-date spend and reservations against each
budget, each agent's rate-limit headroom, and who is being refused (402) or throttled (429) at this moment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Protocol

import msgspec

from domain.llm.policies import RateLimit
from domain.llm.windows import Counts, RateState, Window, rate_state


class BudgetLine(msgspec.Struct, frozen=True):
    scope: str                 # agent | key | microdao
    subject: str
    microdao_id: str
    spent_usd: Decimal         # settled this month
    reserved_usd: Decimal      # held by calls in flight
    limit_usd: Decimal | None  # None: no budget configured for it (any more)

    @property
    def refusing(self) -> bool:
        """Nothing more fits: the next call on this budget gets a 402."""
        return self.limit_usd is not None and self.spent_usd + self.reserved_usd >= self.limit_usd


class AgentWindow(msgspec.Struct, frozen=True):
    agent_id: str
    microdao_id: str
    counts: Counts


class Headroom(msgspec.Struct, frozen=True):
    agent_id: str
    microdao_id: str
    state: RateState

    @property
    def throttled(self) -> bool:
        """The next request gets a 429."""
        return self.state.remaining_requests == 0 or self.state.remaining_tokens == 0


class SpendControlReadings(Protocol):
    async def spend_lines(self, month: date, microdao_id: str | None) -> list[tuple[str, str, str, Decimal, Decimal]]:
        """(scope, subject, microDAO, spent, reserved) of every budget row of `month`."""
        ...

    async def windows(self, window: Window, microdao_id: str | None) -> list[AgentWindow]:
        """The counters of every agent with requests in `window` or the one before it."""
        ...


def headroom(windows: list[AgentWindow], limit_of: dict[str, RateLimit], default: RateLimit,
             window: Window) -> list[Headroom]:
    return [Headroom(w.agent_id, w.microdao_id, rate_state(w.counts, limit_of.get(w.agent_id, default), window))
            for w in windows]
