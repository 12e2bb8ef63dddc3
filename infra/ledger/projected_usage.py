"""UsageReports over the usage projection: wait until it has caught up with the ledger, then read it."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from domain.ledger.application import UsageLedger
from domain.ledger.reports import UsageReport
from infra.ledger.pg_usage_reports import usage_report
from infra.ledger.usage_projection import UsageProjector


class ProjectedUsageReports:
    def __init__(self, ledger: UsageLedger, projector: UsageProjector, pool: Any, wait_s: float = 5.0) -> None:
        self._ledger = ledger
        self._projector = projector
        self._pool = pool
        self._wait_s = wait_s

    async def report(
        self, group_by: str, since: date, until: date, agent_id: str | None = None, microdao_id: str | None = None,
    ) -> UsageReport:
        position = await asyncio.to_thread(self._ledger.max_position)
        caught_up = await asyncio.to_thread(self._projector.wait_for, position, self._wait_s)
        return UsageReport(await usage_report(self._pool, group_by, since, until, agent_id, microdao_id), caught_up)
