"""`daarion usage` prints embeddings beside chat, tools and memory, and totals them like the rest."""

from __future__ import annotations

from datetime import date

from apps.llm_proxy.usage_render import render_usage_table
from domain.ledger.reports import UsageRow, totals_of


def test_the_table_has_embedding_calls_tokens_and_cost_columns_and_totals_them() -> None:
    rows = [UsageRow("agent:sofia", 2, 0, 0, 10, 5, 15, "0.000100", 0, 3.5, 1, 0, 1, 1, "0.000100",
                     embedding_calls=3, embedding_tokens=42, embedding_cost_usd="0.000001"),
            UsageRow("agent:oleh", 0, 0, 0, 0, 0, 0, "0.000000", 0, None, 0, 0, 0, 0, None,
                     embedding_calls=1, embedding_tokens=8, embedding_cost_usd="0.000002")]
    lines = render_usage_table("agent", date(2026, 12, 1), date(2026, 12, 1), rows, totals_of(rows)).splitlines()
    header, sofia, total = lines[1], lines[3], lines[-1]
    assert "embed calls  embed tok  embed USD" in header
    assert sofia.split()[7:10] == ["3", "42", "0.000001"]
    assert total.split()[7:10] == ["4", "50", "0.000003"]
