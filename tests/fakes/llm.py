"""Twins of the LLM gateway's reads and limits: the RateLimiter, with PgRateLimiter's rules (fixed windows
of `window_s` by `clock`, one row of (requests, tokens) per agent and window, reconciliation never below
zero tokens), and the usage projection's readers (SpendReader, and UsageReports, whose port the ledger
owns but whose only client is the proxy)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal

from domain.kernel.clock import Clock
from domain.kernel.errors import RateLimited
from domain.llm.policies import RateLimit
from domain.llm.ports import Admission
from tests.fakes.clock import FakeClock
from tests.fakes.ledger import UsageTable


class InMemoryRateLimiter:
    def __init__(self, clock: Clock | None = None, window_s: int = 60) -> None:
        self.clock = clock or FakeClock()
        self.window_s = window_s
        self.windows: dict[tuple[str, int], tuple[int, int]] = {}  # (agent, window start) -> (requests, tokens)

    async def admit(self, agent_id: str, limit: RateLimit, tokens: int) -> Admission:
        now = self.clock.now().timestamp()
        window = int(now // self.window_s) * self.window_s
        used = self.windows.get((agent_id, window))
        # As PostgreSQL's upsert: the first request of a window is taken whole; the gateway never asks for
        # more tokens than a window holds.
        if used is not None and (used[0] + 1 > limit.requests_per_minute or used[1] + tokens > limit.tokens_per_minute):
            what = "requests" if used[0] >= limit.requests_per_minute else "tokens"
            raise RateLimited(f"{agent_id} reached its limit of {what} per minute",
                              max(1, math.ceil(window + self.window_s - now)))
        requests, reserved = used or (0, 0)
        self.windows[(agent_id, window)] = (requests + 1, reserved + tokens)
        return Admission(agent_id, window, tokens)

    async def reconcile(self, admission: Admission, actual_tokens: int) -> None:
        key = (admission.agent_id, admission.window_start)
        if key in self.windows:
            requests, tokens = self.windows[key]
            self.windows[key] = (requests, max(0, tokens + actual_tokens - admission.reserved_tokens))


class FakeSpendReader:
    """The SpendReader twin, with PgSpendReader's sums: LLM costs since the first of this UTC month, of the
    agent in any microDAO and of every agent in the microDAO."""

    def __init__(self, table: UsageTable) -> None:
        self.table = table

    async def month_to_date_usd(self, agent_id: str, microdao_id: str) -> tuple[Decimal, Decimal]:
        self.table.catch_up()
        month_start = datetime.now(UTC).date().replace(day=1)
        spent = [(key, counters.cost_usd) for key, counters in self.table.rows.items()
                 if key.kind == "llm" and key.day >= month_start]
        return (sum((cost for key, cost in spent if key.agent_id == agent_id), Decimal(0)),
                sum((cost for key, cost in spent if key.microdao_id == microdao_id), Decimal(0)))


