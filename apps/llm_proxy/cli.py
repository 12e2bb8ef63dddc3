"""`daarion usage`: the usage and cost report from the ledger's projection, as a table or JSON."""

from __future__ import annotations

import argparse
import asyncio
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec

from apps.llm_proxy.keys_cli import register as register_key_commands
from domain.ledger.reports import GROUPINGS


def register(subparsers: Any) -> None:
    register_key_commands(subparsers)
    usage = subparsers.add_parser("usage", help="usage and cost report from the ledger's projection")
    usage.add_argument("--by", choices=GROUPINGS, default="agent")
    usage.add_argument("--since", default="30d", help="7d, 24h or an ISO date (default 30d)")
    usage.add_argument("--until", default=None, help="ISO date (default today)")
    usage.add_argument("--json", action="store_true")
    usage.set_defaults(handler=_usage)


def parse_since(text: str, today: date) -> date:
    match = re.fullmatch(r"(\d+)([dh])", text.strip())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        delta = timedelta(days=amount) if unit == "d" else timedelta(hours=amount)
        return (datetime.now(UTC) - delta).date() if unit == "h" else today - delta
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"--since: expected 7d, 24h or YYYY-MM-DD, got '{text}'") from None


def _usage(args: argparse.Namespace) -> int:
    from apps.cli import prepare_database  # the stack's one way to start and migrate the database
    from infra.ledger.event_store import open_ledger
    from infra.ledger.pg_usage_reports import usage_report
    from infra.ledger.usage_projection import UsageProjector
    from infra.platform.db import create_pool, database_url

    url = prepare_database()
    ledger = open_ledger(url)
    projector = UsageProjector(ledger)
    projector.catch_up()
    projector.close()
    ledger.close()
    today = datetime.now(UTC).date()
    since = parse_since(args.since, today)
    until = date.fromisoformat(args.until) if args.until else today

    async def fetch() -> list[object]:
        pool = await create_pool(database_url(), max_size=2)
        try:
            return list(await usage_report(pool, args.by, since, until))
        finally:
            await pool.close()

    rows = asyncio.run(fetch())
    if args.json:
        print(msgspec.json.encode(rows).decode())
        return 0
    print(render_usage_table(args.by, since, until, [msgspec.to_builtins(r) for r in rows]))
    return 0


def render_usage_table(by: str, since: date, until: date, rows: list[dict[str, object]]) -> str:
    columns = [(by, "key"), ("llm calls", "llm_calls"), ("failed", "llm_failures"), ("prompt tok", "prompt_tokens"),
               ("compl tok", "completion_tokens"), ("cost USD", "cost_usd"), ("unpriced", "unpriced_calls"),
               ("embed calls", "embedding_calls"), ("embed tok", "embedding_tokens"), ("embed USD", "embedding_cost_usd"),
               ("tool calls", "tool_calls"), ("mem writes", "memory_writes"), ("turns", "agent_turns")]
    table = [[title for title, _ in columns]] + [[str(row[key]) for _, key in columns] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    lines = [f"usage by {by}, {since} .. {until}"]
    for index, line in enumerate(table):
        lines.append("  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                               for i, cell in enumerate(line)))
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    if len(table) == 1:
        lines.append("(no usage in this period)")
    return "\n".join(lines)
