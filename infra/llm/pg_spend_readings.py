"""SpendControlReadings over llm_spend and rate_limit_windows (the tables admission keeps, migration 0006)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.llm.headroom import AgentWindow
from domain.llm.windows import Counts, Window

_LINES = """
SELECT scope, subject, microdao_id, spent_usd, reserved_usd FROM llm_spend
WHERE month = $1 AND ($2::text IS NULL OR microdao_id = $2) ORDER BY scope, subject
"""

# rate_limit_windows knows agents only; their microDAO comes from the registry.
_WINDOWS = """
SELECT w.agent_id, coalesce(a.microdao_id, '') AS microdao_id,
       coalesce(sum(w.requests) FILTER (WHERE w.window_start = $2), 0) AS previous_requests,
       coalesce(sum(w.tokens) FILTER (WHERE w.window_start = $2), 0) AS previous_tokens,
       coalesce(sum(w.requests) FILTER (WHERE w.window_start = $1), 0) AS requests,
       coalesce(sum(w.tokens) FILTER (WHERE w.window_start = $1), 0) AS tokens
FROM rate_limit_windows w LEFT JOIN agents a ON a.agent_id = w.agent_id
WHERE w.window_start IN ($1, $2) AND ($3::text IS NULL OR a.microdao_id = $3)
GROUP BY 1, 2 ORDER BY 1
"""


class PgSpendReadings:
    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def spend_lines(self, month: date, microdao_id: str | None) -> list[tuple[str, str, str, Decimal, Decimal]]:
        rows = await self._pool.fetch(_LINES, month, microdao_id)
        return [(r["scope"], r["subject"], r["microdao_id"], r["spent_usd"], r["reserved_usd"]) for r in rows]

    async def windows(self, window: Window, microdao_id: str | None) -> list[AgentWindow]:
        rows = await self._pool.fetch(_WINDOWS, window.start, window.previous_start, microdao_id)
        return [AgentWindow(r["agent_id"], r["microdao_id"], Counts(int(r["previous_requests"]),
                int(r["previous_tokens"]), int(r["requests"]), int(r["tokens"]))) for r in rows]
