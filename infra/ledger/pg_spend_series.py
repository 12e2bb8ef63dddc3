"""SpendSeries over usage_daily (itself the per-day rollup of the ledger, kept by the usage projector)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from domain.ledger.application import UsageLedger
from domain.ledger.spend import SpendPoint
from infra.ledger.usage_projection import UsageProjector

_KEY_OF_SPLIT = {
    "agent": "agent_id",
    "microdao": "microdao_id",
    "model": "subject || ' -> ' || provider || '/' || physical_model",  # as /internal/usage?group_by=model
    "provider": "provider",
}


def _sql(split: str) -> str:
    return f"""
    SELECT day, {_KEY_OF_SPLIT[split]} AS key, sum(calls) AS calls, sum(prompt_tokens) AS prompt_tokens,
           sum(completion_tokens) AS completion_tokens, sum(cost_usd) AS cost_usd
    FROM usage_daily
    WHERE kind = 'llm' AND day >= $1 AND day <= $2 AND ($3::text IS NULL OR microdao_id = $3)
    GROUP BY 1, 2 ORDER BY 1, 2
    """


class PgSpendSeries:
    def __init__(self, pool: Any, ledger: UsageLedger, projector: UsageProjector, wait_s: float = 5.0) -> None:
        self._pool = pool
        self._ledger = ledger
        self._projector = projector
        self._wait_s = wait_s

    async def daily(self, split: str, since: date, until: date, microdao_id: str | None) -> list[SpendPoint]:
        if split not in _KEY_OF_SPLIT:
            raise ValueError(f"unknown split {split!r}")
        rows = await self._pool.fetch(_sql(split), since, until, microdao_id)
        return [SpendPoint(r["day"], r["key"], int(r["calls"]), int(r["prompt_tokens"]),
                           int(r["completion_tokens"]), r["cost_usd"]) for r in rows]

    async def caught_up(self) -> bool:
        position = await asyncio.to_thread(self._ledger.max_position)
        return await asyncio.to_thread(self._projector.wait_for, position, self._wait_s)
