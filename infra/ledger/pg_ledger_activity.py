"""LedgerActivity over the ledger_calls projection (written with usage_daily by the usage projector)."""

from __future__ import annotations

from typing import Any

from domain.ledger.activity import CallFilter, LedgerCall, ToolUse

_COLUMNS = ("position, request_id, at, kind, agent_id, microdao_id, subject, status, latency_ms, provider, model, "
            "error_type, cost_usd, prompt_tokens, completion_tokens")

_RECENT = f"""
SELECT {_COLUMNS} FROM ledger_calls
WHERE ($1::text IS NULL OR microdao_id = $1) AND ($2::text IS NULL OR agent_id = $2)
  AND ($3::text IS NULL OR kind = $3) AND ($4::text IS NULL OR status = $4)
  AND ($5::text IS NULL OR (kind = 'llm' AND subject = $5)) AND ($6::text IS NULL OR (kind = 'tool' AND subject = $6))
ORDER BY position DESC LIMIT $7
"""

_TURN = f"""
SELECT {_COLUMNS} FROM ledger_calls
WHERE request_id = $1 AND ($2::text IS NULL OR microdao_id = $2) ORDER BY position
"""

_TOOL_USE = """
SELECT subject AS tool_id, agent_id, count(*) AS calls,
       count(*) FILTER (WHERE status = 'failed') AS failures,
       count(*) FILTER (WHERE status = 'denied') AS denials,
       count(*) FILTER (WHERE status = 'invalid') AS invalid,
       avg(latency_ms) AS avg_latency_ms
FROM ledger_calls WHERE kind = 'tool' AND ($1::text IS NULL OR microdao_id = $1)
GROUP BY 1, 2 ORDER BY 1, 2
"""


class PgLedgerActivity:
    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def recent(self, where: CallFilter) -> list[LedgerCall]:
        rows = await self._pool.fetch(_RECENT, where.microdao_id, where.agent_id, where.kind, where.status,
                                      where.model, where.tool, where.limit)
        return [_call(r) for r in rows]

    async def turn(self, request_id: str, microdao_id: str | None) -> list[LedgerCall]:
        return [_call(r) for r in await self._pool.fetch(_TURN, request_id, microdao_id)]

    async def tool_use(self, microdao_id: str | None) -> list[ToolUse]:
        return [
            ToolUse(r["tool_id"], r["agent_id"], int(r["calls"]), int(r["failures"]), int(r["denials"]),
                    int(r["invalid"]), float(r["avg_latency_ms"]) if r["avg_latency_ms"] is not None else None)
            for r in await self._pool.fetch(_TOOL_USE, microdao_id)
        ]


def _call(r: Any) -> LedgerCall:
    return LedgerCall(
        position=r["position"], request_id=r["request_id"], at=r["at"], kind=r["kind"], agent_id=r["agent_id"],
        microdao_id=r["microdao_id"], subject=r["subject"], status=r["status"], latency_ms=r["latency_ms"],
        provider=r["provider"], model=r["model"], error_type=r["error_type"], cost_usd=r["cost_usd"],
        prompt_tokens=r["prompt_tokens"], completion_tokens=r["completion_tokens"],
    )
