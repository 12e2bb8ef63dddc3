"""`GET /internal/usage`: the usage report, filtered to what the caller's key may see."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from litestar import Request, get
from litestar.params import FromQuery, QueryParameter

from apps.common.auth import caller, requires
from apps.common.container import Injected
from apps.llm_proxy.container import ProxyContainer
from apps.llm_proxy.schemas import UsageReportView
from domain.identity.principal import Principal
from domain.identity.scopes import Scope
from domain.kernel.errors import InvalidRequest
from domain.kernel.ids import SUBJECT_ID_PATTERN
from domain.ledger.reports import GROUPINGS, totals_of

OptionalSubject = Annotated[str | None, QueryParameter(pattern=SUBJECT_ID_PATTERN, required=False)]


@get("/internal/usage", guards=[requires(Scope.USAGE_READ)])
async def usage_report(
    request: Request[Any, Any, Any],
    container: Injected[ProxyContainer],
    group_by: FromQuery[str] = "agent",
    since: Annotated[date | None, QueryParameter(name="from")] = None,
    until: Annotated[date | None, QueryParameter(name="to")] = None,
    agent_id: OptionalSubject = None,
    microdao_id: OptionalSubject = None,
) -> UsageReportView:
    if group_by not in GROUPINGS:
        raise InvalidRequest(f"group_by must be one of {', '.join(GROUPINGS)}, not '{group_by}'")
    today = datetime.now(UTC).date()
    since = since or today - timedelta(days=30)
    until = until or today
    if since > until:
        raise InvalidRequest("'from' must not be after 'to'")
    agent_id, microdao_id = visible_filter(caller(request), agent_id, microdao_id)
    report = await container.usage.report(group_by, since, until, agent_id, microdao_id)
    return UsageReportView(group_by, since, until, report.complete, report.rows, totals_of(report.rows),
                           agent_id, microdao_id)


def visible_filter(principal: Principal, agent_id: str | None, microdao_id: str | None) -> tuple[str | None, str | None]:
    """The filter a report runs with: an agent's key sees its own agent's usage only (naming another agent or
    microDAO is refused, not silently widened or emptied); a microDAO's key that acts as no agent sees that
    microDAO's; an operator's sees what it asks for."""
    if principal.agent_id is not None:
        tenant = principal.tenant(agent_id, microdao_id)
        return tenant.agent_id, tenant.microdao_id
    if principal.microdao_id is not None:
        principal.check_microdao(microdao_id)
        return agent_id, principal.microdao_id
    return agent_id, microdao_id
