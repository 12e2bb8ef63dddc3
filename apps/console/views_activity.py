"""The Calls page (recent LLM calls, tool calls, memory writes and turns, filtered), one request's turn as a
timeline, and the Tools page (use per tool and agent, and the permission grants)."""

from __future__ import annotations

from decimal import Decimal

from apps.console.html import e, link, money, select, table
from domain.ledger.activity import KINDS, CallFilter, LedgerCall, ToolUse
from domain.tools.permissions import Grant

STATUSES = ("completed", "failed", "cancelled", "succeeded", "denied", "invalid", "unavailable", "skipped",
            "stored", "forgotten")


def calls_body(calls: list[LedgerCall], where: CallFilter, show_microdao_filter: bool) -> str:
    def field(name: str, value: str | None) -> str:
        return f'<label>{name}<input name="{name}" value="{e(value or "")}" size="14"></label>'

    form = ('<form class="filters" method="get" action="/calls">' + field("agent", where.agent_id)
            + (field("microdao", where.microdao_id) if show_microdao_filter else "")
            + select("kind", KINDS, where.kind) + select("status", STATUSES, where.status)
            + field("model", where.model) + field("tool", where.tool)
            + '<button type="submit">Filter</button></form>'
            + '<form class="filters" method="get" action="/calls/turn" style="margin-top:.5rem">'
            + '<label>request id<input name="request_id" size="38"></label><button type="submit">Open turn</button>'
            + '</form>')
    rows = [[e(c.at.strftime("%Y-%m-%d %H:%M:%S")), e(c.kind), e(c.agent_id), e(c.microdao_id), e(_what(c)),
             _status(c), f"{c.latency_ms:.1f}", money(c.cost_usd), str(c.prompt_tokens + c.completion_tokens),
             _turn_link(c.request_id)] for c in calls]
    return (f'<div class="card">{form}</div><div class="card"><h2>Newest {len(calls)} (at most {where.limit})</h2>'
            + table(["ended (UTC)", "kind", "agent", "microDAO", "what", "status", "latency ms", "cost (USD)",
                     "tokens", "request id"], rows, numeric=(6, 7, 8), table_id="calls") + "</div>")


def turn_body(request_id: str, calls: list[LedgerCall]) -> str:
    if not calls:
        return f'<div class="card"><p>No calls of request <code>{e(request_id)}</code> in the ledger.</p></div>'
    starts = [c.at.timestamp() * 1000 - c.latency_ms for c in calls]
    first = min(starts)
    span = max(max(c.at.timestamp() * 1000 for c in calls) - first, 1.0)
    rows = []
    for c, start in zip(calls, starts, strict=True):
        left, width = (start - first) / span * 100, max(c.latency_ms / span * 100, 0.5)
        bar = (f'<div class="bar" style="min-width:200px"><i style="left:{left:.1f}%;width:{width:.1f}%">'
               f'</i></div>')
        rows.append([f"+{start - first:.1f}", e(c.kind), e(_what(c)), _status(c), f"{c.latency_ms:.1f}",
                     money(c.cost_usd), str(c.prompt_tokens), str(c.completion_tokens), bar])
    llm = [c for c in calls if c.kind == "llm"]
    total = ["Total", "", f"{len(llm)} LLM calls", "", f"{span:.1f}", money(sum((c.cost_usd or Decimal(0) for c in llm),
             Decimal(0))), str(sum(c.prompt_tokens for c in llm)), str(sum(c.completion_tokens for c in llm)), ""]
    who = calls[0]
    return (f'<div class="card"><p>Request <code id="turn-request">{e(request_id)}</code> of {e(who.agent_id)} '
            f'({e(who.microdao_id)}): {len(calls)} steps in the order they ended; a bar is a step\'s time.</p>'
            + table(["start ms", "kind", "what", "status", "latency ms", "cost (USD)", "prompt", "completion",
                     "timeline"], rows, numeric=(0, 4, 5, 6, 7), table_id="turn", total=total) + "</div>")


def tools_body(uses: list[ToolUse], grants: list[Grant]) -> str:
    rows = [[e(u.tool_id), e(u.agent_id), str(u.calls), str(u.failures), str(u.denials), str(u.invalid),
             f"{u.avg_latency_ms:.1f}" if u.avg_latency_ms is not None else "—"] for u in uses]
    total = ["Total", "", *(str(sum(getattr(u, f) for u in uses)) for f in ("calls", "failures", "denials",
                                                                           "invalid")), ""]
    grant_rows = [[e(g.agent or "any agent"), e(g.microdao or "any microDAO"), e(", ".join(g.allow))]
                  for g in grants]
    return ('<div class="card"><h2>Calls per tool and agent (whole ledger)</h2>'
            + table(["tool", "agent", "calls", "failed", "denied", "invalid", "avg latency ms"], rows,
                    numeric=range(2, 7), table_id="tool-use", total=total)
            + '</div><div class="card"><h2>Permission grants (config/tools.yaml; deny by default)</h2>'
            + table(["agent", "microDAO", "allowed tools"], grant_rows, table_id="grants") + "</div>")


def _turn_link(request_id: str) -> str:
    """The request id, shortened to what tells ids apart at a glance; the whole id is the link's title."""
    if not request_id:
        return ""
    label = request_id if len(request_id) <= 16 else request_id[:14] + "…"
    return link("/calls/turn", label, title=request_id, request_id=request_id)


def _what(c: LedgerCall) -> str:
    return f"{c.subject} → {c.provider}/{c.model}" if c.kind == "llm" else c.subject


def _status(c: LedgerCall) -> str:
    css = "ok" if c.status in ("completed", "succeeded", "stored", "forgotten") else "bad"
    detail = f" ({c.error_type})" if c.error_type else ""
    return f'<span class="{css}">{e(c.status + detail)}</span>'
