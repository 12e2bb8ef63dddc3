"""`daarion usage` prints embeddings beside chat, tools and memory."""

from __future__ import annotations

from datetime import date

import msgspec

from apps.llm_proxy.cli import render_usage_table
from domain.ledger.reports import UsageRow


def test_the_table_has_embedding_calls_tokens_and_cost_columns() -> None:
    row = UsageRow("agent:sofia", 2, 0, 0, 10, 5, 15, "0.000100", 0, 3.5, 1, 0, 1, 1, "0.000100",
                   embedding_calls=3, embedding_tokens=42, embedding_cost_usd="0.000001")
    header, _, line = render_usage_table("agent", date(2026, 12, 1), date(2026, 12, 1),
                                         [msgspec.to_builtins(row)]).splitlines()[1:4]
    assert "embed calls  embed tok  embed USD" in header
    assert line.split()[7:10] == ["3", "42", "0.000001"]
