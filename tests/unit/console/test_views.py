"""What the console's pages compute from their rows: totals, budget lines with their limits, who is refused or
throttled now, and that every value reaches the HTML escaped."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from apps.console.views_budgets import budget_lines
from apps.console.views_spend import spend_body, spend_csv
from domain.ledger.spend import SpendPoint, totals
from domain.llm.headroom import AgentWindow, headroom
from domain.llm.policies import RateLimit
from domain.llm.windows import Counts, Window

DAY = date(2026, 12, 1)


def test_totals_add_each_keys_points_up() -> None:
    points = [SpendPoint(DAY, "a", 1, 10, 5, Decimal("0.1")), SpendPoint(DAY, "b", 2, 1, 1, Decimal("0.2")),
              SpendPoint(date(2026, 12, 2), "a", 3, 20, 10, Decimal("0.3"))]
    summed = totals(points)
    assert (summed["a"].llm_calls, summed["a"].prompt_tokens, summed["a"].cost_usd) == (4, 30, Decimal("0.4"))
    assert summed["b"].llm_calls == 2


def test_the_spend_page_escapes_keys_and_its_csv_lists_every_point() -> None:
    points = [SpendPoint(DAY, "<script>alert(1)</script>", 1, 10, 5, Decimal("0.1"))]
    html = spend_body(points, "agent", 30, "cost", DAY, DAY, complete=False)
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "catching up" in html
    assert spend_csv(points, "agent").splitlines() == [
        "day,agent,llm_calls,prompt_tokens,completion_tokens,cost_usd", ("2026-12-01,<script>alert(1)</script>,1,10,5,"
        "0.100000")]


def test_a_budget_is_refusing_once_spent_and_reserved_reach_it_and_configured_budgets_show_at_zero() -> None:
    rows = [("agent", "agent:sofia", "microdao:7", Decimal(49), Decimal(1)),
            ("microdao", "microdao:7", "microdao:7", Decimal(10), Decimal(0))]
    limits = {("agent", "agent:sofia"): Decimal(50), ("microdao", "microdao:7"): Decimal(500),
              ("microdao", "microdao:9"): Decimal(5)}
    homes = {("agent", "agent:sofia"): "microdao:7", ("microdao", "microdao:7"): "microdao:7",
             ("microdao", "microdao:9"): "microdao:9"}
    lines = {(line.scope, line.subject): line for line in budget_lines(rows, limits, homes, None)}
    assert lines[("agent", "agent:sofia")].refusing and not lines[("microdao", "microdao:7")].refusing
    assert lines[("microdao", "microdao:9")].spent_usd == 0
    scoped = budget_lines(rows, limits, homes, "microdao:7")
    assert ("microdao", "microdao:9") not in {(line.scope, line.subject) for line in scoped}


def test_an_agent_whose_next_request_would_not_fit_is_throttled() -> None:
    window = Window(start=600, elapsed_ms=30_000, length_s=60)
    full = AgentWindow("agent:busy", "microdao:7", Counts(0, 0, 10, 100))
    idle = AgentWindow("agent:idle", "microdao:7", Counts(2, 10, 1, 10))
    rooms = headroom([full, idle], {"agent:busy": RateLimit(requests_per_minute=10)}, RateLimit(), window)
    assert [r.throttled for r in rooms] == [True, False]
    assert rooms[1].state.remaining_requests == 600 - 1 - 1  # the previous window weighs half at mid-minute
