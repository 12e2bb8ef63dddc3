"""Reads of the usage projection: reports grouped by agent, microDAO, model, tool or day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.ledger.reports import UsageRow

SQL_OF_GROUPING: dict[str, tuple[str, str]] = {
    "agent": ("agent_id", "TRUE"),
    "microdao": ("microdao_id", "TRUE"),
    "model": ("subject || ' -> ' || provider || '/' || physical_model", "kind IN ('llm', 'embeddings')"),
    "tool": ("subject", "kind = 'tool'"),
    "day": ("day::text", "TRUE"),
}


def _report_sql(group_by: str) -> str:
    key, where = SQL_OF_GROUPING[group_by]
    return f"""
    SELECT {key} AS key,
      coalesce(sum(calls) FILTER (WHERE kind = 'llm'), 0) AS llm_calls,
      coalesce(sum(failures) FILTER (WHERE kind = 'llm'), 0) AS llm_failures,
      coalesce(sum(cancelled) FILTER (WHERE kind = 'llm'), 0) AS llm_cancelled,
      coalesce(sum(prompt_tokens) FILTER (WHERE kind = 'llm'), 0) AS prompt_tokens,
      coalesce(sum(completion_tokens) FILTER (WHERE kind = 'llm'), 0) AS completion_tokens,
      coalesce(sum(cost_usd) FILTER (WHERE kind = 'llm'), 0) AS cost_usd,
      coalesce(sum(unpriced_calls) FILTER (WHERE kind = 'llm'), 0) AS unpriced_calls,
      sum(latency_ms_sum) FILTER (WHERE kind = 'llm') / nullif(sum(calls) FILTER (WHERE kind = 'llm'), 0)
        AS avg_llm_latency_ms,
      coalesce(sum(calls) FILTER (WHERE kind = 'tool'), 0) AS tool_calls,
      coalesce(sum(failures) FILTER (WHERE kind = 'tool'), 0) AS tool_failures,
      coalesce(sum(calls) FILTER (WHERE kind = 'memory' AND subject = 'stored'), 0) AS memory_writes,
      coalesce(sum(calls) FILTER (WHERE kind = 'turn'), 0) AS agent_turns,
      sum(cost_usd) FILTER (WHERE kind = 'turn') / nullif(sum(calls) FILTER (WHERE kind = 'turn'), 0)
        AS avg_turn_cost_usd,
      coalesce(sum(calls) FILTER (WHERE kind = 'embeddings'), 0) AS embedding_calls,
      coalesce(sum(prompt_tokens) FILTER (WHERE kind = 'embeddings'), 0) AS embedding_tokens,
      coalesce(sum(cost_usd) FILTER (WHERE kind = 'embeddings'), 0) AS embedding_cost_usd
    FROM usage_daily
    WHERE day >= $1 AND day <= $2 AND {where} AND ($3::text IS NULL OR agent_id = $3)
      AND ($4::text IS NULL OR microdao_id = $4)
    GROUP BY 1 ORDER BY 1
    """


async def usage_report(
    pool: Any, group_by: str, since: date, until: date, agent_id: str | None = None,
    microdao_id: str | None = None,
) -> list[UsageRow]:
    records = await pool.fetch(_report_sql(group_by), since, until, agent_id, microdao_id)
    return [
        UsageRow(
            key=r["key"], llm_calls=int(r["llm_calls"]), llm_failures=int(r["llm_failures"]),
            llm_cancelled=int(r["llm_cancelled"]), prompt_tokens=int(r["prompt_tokens"]),
            completion_tokens=int(r["completion_tokens"]),
            total_tokens=int(r["prompt_tokens"] + r["completion_tokens"]),
            cost_usd=str(_money(r["cost_usd"])), unpriced_calls=int(r["unpriced_calls"]),
            avg_llm_latency_ms=round(float(r["avg_llm_latency_ms"]), 3) if r["avg_llm_latency_ms"] is not None else None,
            tool_calls=int(r["tool_calls"]), tool_failures=int(r["tool_failures"]),
            memory_writes=int(r["memory_writes"]), agent_turns=int(r["agent_turns"]),
            avg_turn_cost_usd=str(_money(r["avg_turn_cost_usd"])) if r["avg_turn_cost_usd"] is not None else None,
            embedding_calls=int(r["embedding_calls"]), embedding_tokens=int(r["embedding_tokens"]),
            embedding_cost_usd=str(_money(r["embedding_cost_usd"])),
        )
        for r in records
    ]


def _money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(Decimal("0.000001"))

