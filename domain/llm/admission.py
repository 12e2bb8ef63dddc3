"""Admission of a gateway call: what it reserves, against which budgets, and what the caller learns.

A call is admitted only if one more request, its tokens and the worst case of its cost all fit: the
agent's sliding-window rates (domain.llm.windows) and every monthly budget that applies (the agent's and
its microDAO's from config, the API key's from the credential). The cost is reserved at admission and
settled to the real cost when the call ends, so the spent plus the reserved never exceeds a budget,
however many calls run at once in however many processes.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import msgspec

from domain.kernel.errors import BudgetExhausted, RateLimited
from domain.llm.policies import BudgetPolicy, RateLimit
from domain.llm.windows import Counts, RateState, Window, rate_state, requests_fit, retry_after_s

# Budget rows are locked in this order (alphabetical, as the database sorts them), so that concurrent
# admissions sharing a microDAO never wait on each other in a cycle.
SCOPES = ("agent", "key", "microdao")


class BudgetLine(msgspec.Struct, frozen=True):
    scope: str          # one of SCOPES
    subject: str        # the agent, key or microDAO id
    limit_usd: Decimal  # per calendar month (UTC)


class Ticket(msgspec.Struct, frozen=True):
    """What a call asks to reserve."""

    agent_id: str
    microdao_id: str
    limit: RateLimit
    tokens: int                          # reserved against tokens per minute
    cost_usd: Decimal = Decimal(0)       # the worst case, reserved against every budget line
    budgets: tuple[BudgetLine, ...] = ()


class Quota(msgspec.Struct, frozen=True):
    """What admission learned about the caller's allowance (None: unknown, or no budget applies)."""

    rate: RateState | None = None
    budget_left_usd: Decimal | None = None


class Admission(msgspec.Struct, frozen=True):
    """A granted call: its reservation (tokens in `window_start`'s window, cost in `month`) and quota."""

    ticket: Ticket
    window_start: int
    month: date
    quota: Quota = Quota()


class OverRateLimit(RateLimited):
    def __init__(self, message: str, retry_after_s: int, quota: Quota) -> None:
        super().__init__(message, retry_after_s)
        self.quota = quota


class OverBudget(BudgetExhausted):
    def __init__(self, message: str, quota: Quota) -> None:
        super().__init__(message)
        self.quota = quota


def budget_lines(
    budgets: BudgetPolicy, agent_id: str, microdao_id: str, key_id: str | None, key_budget_usd: Decimal | None,
) -> tuple[BudgetLine, ...]:
    """The budgets a call is held to, in SCOPES order."""
    lines = []
    if (agent := budgets.agent_budget(agent_id)) is not None:
        lines.append(BudgetLine("agent", agent_id, agent))
    if key_id is not None and key_budget_usd is not None:
        lines.append(BudgetLine("key", key_id, key_budget_usd))
    if (microdao := budgets.microdao_budget(microdao_id)) is not None:
        lines.append(BudgetLine("microdao", microdao_id, microdao))
    return tuple(lines)


def month_of(moment: datetime) -> date:
    return moment.date().replace(day=1)


def over_budget(line: BudgetLine, spent: Decimal, reserved: Decimal, cost: Decimal) -> bool:
    """True when the call's worst case does not fit beside what is spent and reserved, or nothing is left."""
    left = line.limit_usd - spent - reserved
    return left <= 0 or cost > left


def budget_refusal(line: BudgetLine, spent: Decimal, reserved: Decimal, cost: Decimal, rate: RateState | None) -> OverBudget:
    left = max(line.limit_usd - spent - reserved, Decimal(0))
    in_flight = f" (${_money(reserved)} of it reserved by calls in flight)" if reserved else ""
    return OverBudget(
        f"monthly budget of {line.scope} {line.subject} is exhausted: ${_money(spent + reserved)} of "
        f"${_money(line.limit_usd)} used{in_flight}, and this call may cost up to ${_money(cost)}; "
        "lower max_tokens or wait for next month",
        Quota(rate, left),
    )


def rate_refusal(agent_id: str, counts: Counts, limit: RateLimit, tokens: int, window: Window) -> OverRateLimit:
    if not requests_fit(counts, limit, window):
        message = f"{agent_id} reached its limit of {limit.requests_per_minute} requests per minute"
    else:
        message = (f"{agent_id} would exceed its limit of {limit.tokens_per_minute} tokens per minute "
                   f"(this request reserves {tokens})")
    return OverRateLimit(message, retry_after_s(counts, limit, tokens, window),
                         Quota(rate_state(counts, limit, window)))


def smallest_left(lines: tuple[BudgetLine, ...], used: list[Decimal]) -> Decimal | None:
    """The least that any budget line has left, given what each has spent and reserved (this call's included)."""
    return min((line.limit_usd - spent for line, spent in zip(lines, used, strict=True)), default=None)


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.000001')).normalize():f}"
