"""The usage report as `daarion usage` prints it: an aligned table or CSV, each with its totals row."""

from __future__ import annotations

import csv
import io
from datetime import date

import msgspec

from domain.ledger.reports import UsageRow

_TABLE_COLUMNS = [("llm calls", "llm_calls"), ("failed", "llm_failures"), ("prompt tok", "prompt_tokens"),
                  ("compl tok", "completion_tokens"), ("cost USD", "cost_usd"), ("unpriced", "unpriced_calls"),
                  ("embed calls", "embedding_calls"), ("embed tok", "embedding_tokens"),
                  ("embed USD", "embedding_cost_usd"), ("tool calls", "tool_calls"), ("mem writes", "memory_writes"), ("turns", "agent_turns")]
_CSV_FIELDS = [field for field in msgspec.structs.fields(UsageRow) if field.name != "key"]


def render_usage_table(by: str, since: date, until: date, rows: list[UsageRow], totals: UsageRow,
                       filters: str = "") -> str:
    def cells(row: UsageRow) -> list[str]:
        return [row.key] + [str(getattr(row, name)) for _, name in _TABLE_COLUMNS]

    table = [[by] + [title for title, _ in _TABLE_COLUMNS], *map(cells, rows), cells(totals)]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    rule = "  ".join("-" * width for width in widths)

    def aligned(line: list[str]) -> str:
        return "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line))

    header = f"usage by {by}, {since} .. {until}{filters}"
    if not rows:
        return "\n".join([header, aligned(table[0]), rule, "(no usage in this period)"])
    return "\n".join([header, aligned(table[0]), rule, *map(aligned, table[1:-1]), rule, aligned(table[-1])])


def render_usage_csv(by: str, rows: list[UsageRow], totals: UsageRow) -> str:
    """One line per row under a header; the first column says `group` or `total`, so a spreadsheet that sums
    the groups can leave the totals line out."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["row", by, *(field.name for field in _CSV_FIELDS)])
    for kind, key, row in [*(("group", row.key, row) for row in rows), ("total", "", totals)]:
        writer.writerow([kind, key, *("" if (value := getattr(row, field.name)) is None else value
                                      for field in _CSV_FIELDS)])
    return out.getvalue()
