"""The twin of the LLM gateway's admission control, with PgAdmissionControl's rules: sliding windows of
`window_s` by `clock` (one (requests, tokens) counter per agent and window, reconciliation never below zero
tokens), budget rows per (scope, subject, month) holding spent and reserved, a month's row starting from
what the usage projection shows for it, settlement applied at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from domain.kernel.clock import Clock
from domain.llm.admission import (
    Admission,
    Quota,
    Ticket,
    budget_refusal,
    month_of,
    over_budget,
    rate_refusal,
    smallest_left,
)
from domain.llm.windows import Counts, fits, rate_state, window_at
from tests.fakes.clock import FakeClock

SpendKey = tuple[str, str, date]  # (scope, subject, month)


def nothing_projected(scope: str, subject: str, month: date) -> Decimal:
    return Decimal(0)


class InMemoryAdmissionControl:
    def __init__(self, clock: Clock | None = None, window_s: int = 60,
                 projected: Callable[[str, str, date], Decimal] = nothing_projected) -> None:
        self.clock = clock or FakeClock()
        self.window_s = window_s
        self.projected = projected  # what the usage projection shows for a (scope, subject, month)
        self.windows: dict[tuple[str, int], tuple[int, int]] = {}  # (agent, window start) -> (requests, tokens)
        self.spend: dict[SpendKey, tuple[Decimal, Decimal]] = {}   # -> (spent, reserved)

    async def admit(self, ticket: Ticket) -> Admission:
        now = self.clock.now()
        window, month, limit = window_at(now.timestamp(), self.window_s), month_of(now), ticket.limit
        previous = self.windows.get((ticket.agent_id, window.previous_start), (0, 0))
        current = self.windows.get((ticket.agent_id, window.start), (0, 0))
        counts = Counts(*previous, *current)
        if not fits(counts, limit, ticket.tokens, window):
            raise rate_refusal(ticket.agent_id, counts, limit, ticket.tokens, window)
        used = []
        for line in ticket.budgets:
            key = (line.scope, line.subject, month)
            spent, reserved = self.spend.setdefault(key, (self.projected(line.scope, line.subject, month), Decimal(0)))
            if over_budget(line, spent, reserved, ticket.cost_usd):
                raise budget_refusal(line, spent, reserved, ticket.cost_usd, rate_state(counts, limit, window))
            used.append(spent + reserved + ticket.cost_usd)
        for line in ticket.budgets:
            spent, reserved = self.spend[(line.scope, line.subject, month)]
            self.spend[(line.scope, line.subject, month)] = (spent, reserved + ticket.cost_usd)
        admitted = Counts(*previous, current[0] + 1, current[1] + ticket.tokens)
        self.windows[(ticket.agent_id, window.start)] = (admitted.requests, admitted.tokens)
        return Admission(ticket, window.start, month,
                         Quota(rate_state(admitted, limit, window), smallest_left(ticket.budgets, used)))

    async def settle(self, admission: Admission, tokens: int, cost_usd: Decimal) -> None:
        ticket = admission.ticket
        key = (ticket.agent_id, admission.window_start)
        if key in self.windows:
            requests, reserved_tokens = self.windows[key]
            self.windows[key] = (requests, max(0, reserved_tokens + tokens - ticket.tokens))
        for line in ticket.budgets:
            spent, reserved = self.spend[(line.scope, line.subject, admission.month)]
            self.spend[(line.scope, line.subject, admission.month)] = (
                spent + cost_usd, max(Decimal(0), reserved - ticket.cost_usd))
