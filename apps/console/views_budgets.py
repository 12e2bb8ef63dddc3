"""The Budgets and limits page: month-to-date spend and reservations against each budget, and each agent's
rate-limit headroom in the current sliding minute; who is refused (402) or throttled (429) right now."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from apps.console.html import e, money, table
from domain.llm.headroom import BudgetLine, Headroom


def budget_lines(rows: list[tuple[str, str, str, Decimal, Decimal]], limits: dict[tuple[str, str], Decimal],
                 homes: dict[tuple[str, str], str], microdao: str | None) -> list[BudgetLine]:
    """Every budget row of the month, with its configured limit, plus configured budgets nothing has spent
    on yet (at zero); `homes` says which microDAO a configured budget's subject belongs to."""
    lines = {(scope, subject): BudgetLine(scope, subject, home, spent, reserved, limits.get((scope, subject)))
             for scope, subject, home, spent, reserved in rows}
    for (scope, subject), limit in limits.items():
        home = homes.get((scope, subject), "")
        if (scope, subject) not in lines and (microdao is None or home == microdao):
            lines[(scope, subject)] = BudgetLine(scope, subject, home, Decimal(0), Decimal(0), limit)
    return sorted(lines.values(), key=lambda line: (line.scope, line.subject))


def budgets_body(month: date, lines: list[BudgetLine], rooms: list[Headroom]) -> str:
    budget_rows = [[e(line.scope), e(line.subject), e(line.microdao_id), money(line.spent_usd),
                    money(line.reserved_usd), money(line.limit_usd), _bar(line),
                    '<span class="bad">refusing (402)</span>' if line.refusing else '<span class="ok">ok</span>']
                   for line in lines]
    room_rows = [[e(r.agent_id), e(r.microdao_id), f"{r.state.remaining_requests} / {r.state.limit_requests}",
                  f"{r.state.remaining_tokens} / {r.state.limit_tokens}",
                  '<span class="bad">throttled (429)</span>' if r.throttled else '<span class="ok">ok</span>']
                 for r in rooms]
    refused = [line.subject for line in lines if line.refusing]
    throttled = [r.agent_id for r in rooms if r.throttled]
    now = (f'<p id="refused-now">Refused now (402): {e(", ".join(refused) or "nobody")}. '
           f'Throttled now (429): {e(", ".join(throttled) or "nobody")}.</p>')
    return (f'<div class="card">{now}</div>'
            f'<div class="card"><h2>Budgets, {month:%B %Y} (UTC) — settled and reserved by calls in flight</h2>'
            + table(["scope", "subject", "microDAO", "spent (USD)", "reserved (USD)", "budget (USD)", "used",
                     "now"], budget_rows, numeric=(3, 4, 5), table_id="budgets")
            + '</div><div class="card"><h2>Rate-limit headroom (last sliding minute)</h2>'
            + table(["agent", "microDAO", "requests left", "tokens left", "now"], room_rows, numeric=(2, 3),
                    table_id="headroom")
            + '<p class="muted">Agents with requests in the last two minutes; all others have their whole limit.'
              '</p></div>')


def _bar(line: BudgetLine) -> str:
    if not line.limit_usd:
        return '<span class="muted">no budget</span>'
    spent = min(100.0, float(line.spent_usd / line.limit_usd * 100))
    reserved = min(100.0 - spent, float(line.reserved_usd / line.limit_usd * 100))
    return (f'<div class="bar" title="{spent:.1f}% spent, {reserved:.1f}% reserved"><i style="width:{spent:.1f}%">'
            f'</i><i class="r" style="left:{spent:.1f}%;width:{reserved:.1f}%"></i></div>')
