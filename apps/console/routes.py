"""The console's pages (GET): thin handlers that read through the ports and hand the rows to a view."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.params import Parameter
from litestar.response import Redirect

from apps.common.container import Injected
from apps.console.container import ConsoleContainer
from apps.console.operator import operator_of
from apps.console.responses import HEADERS, screen, to_login
from apps.console.views_activity import calls_body, tools_body, turn_body
from apps.console.views_budgets import budget_lines, budgets_body
from apps.console.views_spend import spend_body, spend_csv
from domain.ledger.activity import CallFilter
from domain.ledger.spend import SpendPoint
from domain.llm.headroom import headroom
from domain.llm.windows import window_at

AnyRequest = Request[Any, Any, Any]
Console = Injected[ConsoleContainer]
Days = Annotated[int, Parameter(ge=1, le=366)]
Split = Annotated[str, Parameter(pattern="^(agent|microdao|model|provider)$")]
Metric = Annotated[str, Parameter(pattern="^(cost|tokens)$")]
Text = Annotated[str | None, Parameter(max_length=200)]


@get("/", include_in_schema=False)
async def home() -> Redirect:
    return Redirect("/spend", status_code=303, headers=HEADERS)


async def _spend(container: ConsoleContainer, microdao: str | None, split: str,
                 days: int) -> tuple[list[SpendPoint], date, date, bool]:
    until = datetime.now(UTC).date()
    since = until - timedelta(days=days - 1)
    complete = await container.spend.caught_up()
    return await container.spend.daily(split, since, until, microdao), since, until, complete


@get("/spend", include_in_schema=False)
async def spend(request: AnyRequest, container: Console, days: Days = 30, split: Split = "agent",
                metric: Metric = "cost") -> Response[str] | Redirect:
    if (op := await operator_of(request, container)) is None:
        return to_login()
    points, since, until, complete = await _spend(container, op.microdao, split, days)
    return screen(op, "Spend", "/spend", spend_body(points, split, days, metric, since, until, complete))


@get("/spend.csv", include_in_schema=False)
async def spend_export(request: AnyRequest, container: Console, days: Days = 30,
                       split: Split = "agent") -> Response[str] | Redirect:
    if (op := await operator_of(request, container)) is None:
        return to_login()
    points, since, until, _ = await _spend(container, op.microdao, split, days)
    return Response(spend_csv(points, split), media_type="text/csv", headers={
        **HEADERS, "content-disposition": f'attachment; filename="spend-{split}-{since}-{until}.csv"'})


@get("/budgets", include_in_schema=False)
async def budgets(request: AnyRequest, container: Console) -> Response[str] | Redirect:
    if (op := await operator_of(request, container)) is None:
        return to_login()
    now = datetime.now(UTC)
    month = now.date().replace(day=1)
    agents = {a.agent_id: a.microdao_id for a in await container.identity.agents()}
    keys = [k for k in await container.identity.keys() if k.monthly_budget_usd is not None]
    configured = container.proxy.budgets
    limits = {("agent", a): v for a, v in configured.agents.items()}
    limits |= {("microdao", m): v for m, v in configured.microdaos.items()}
    limits |= {("key", k.key_id): k.monthly_budget_usd for k in keys if k.monthly_budget_usd is not None}
    homes = {("agent", a): agents.get(a, "") for a in configured.agents}
    homes |= {("microdao", m): m for m in configured.microdaos}
    homes |= {("key", k.key_id): k.microdao_id or "" for k in keys}
    lines = budget_lines(await container.spend_control.spend_lines(month, op.microdao), limits, homes, op.microdao)
    window = window_at(now.timestamp())
    windows = await container.spend_control.windows(window, op.microdao)
    rooms = headroom(windows, container.proxy.limits.agents, container.proxy.limits.default, window)
    return screen(op, "Budgets and limits", "/budgets", budgets_body(month, lines, rooms))


@get("/calls", include_in_schema=False)
async def calls(request: AnyRequest, container: Console, agent: Text = None, microdao: Text = None,
                kind: Text = None, status: Text = None, model: Text = None,
                tool: Text = None) -> Response[str] | Redirect:
    if (op := await operator_of(request, container)) is None:
        return to_login()
    where = CallFilter(op.confine(microdao), agent or None, kind or None, status or None, model or None,
                       tool or None)
    return screen(op, "Calls", "/calls", calls_body(await container.activity.recent(where), where,
                                                    op.microdao is None))


@get("/calls/turn", include_in_schema=False)
async def turn(request: AnyRequest, container: Console, request_id: Text = None) -> Response[str] | Redirect:
    if (op := await operator_of(request, container)) is None:
        return to_login()
    rid = (request_id or "").strip()
    steps = await container.activity.turn(rid, op.microdao) if rid else []
    return screen(op, f"Turn {rid}", "/calls", turn_body(rid, steps))


@get("/tools", include_in_schema=False)
async def tools(request: AnyRequest, container: Console) -> Response[str] | Redirect:
    if (op := await operator_of(request, container)) is None:
        return to_login()
    here = {a.agent_id for a in await container.identity.agents() if op.sees(a.microdao_id)}
    grants = [g for g in container.grants if op.grant_visible(g, here)]
    return screen(op, "Tools", "/tools", tools_body(await container.activity.tool_use(op.microdao), grants))


PAGES = [home, spend, spend_export, budgets, calls, turn, tools]
