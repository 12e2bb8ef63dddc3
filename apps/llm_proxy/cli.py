"""`daarion usage`: the usage and cost report from the ledger's projection, as a table, JSON or CSV."""

from __future__ import annotations

import argparse
import asyncio
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec

from apps.llm_proxy.keys_cli import register as register_key_commands
from apps.llm_proxy.schemas import UsageReportView
from apps.llm_proxy.usage_render import render_usage_csv, render_usage_table
from domain.kernel.ids import SUBJECT_ID
from domain.ledger.reports import GROUPINGS, totals_of


def register(subparsers: Any) -> None:
    register_key_commands(subparsers)
    usage = subparsers.add_parser("usage", help="usage and cost report from the ledger's projection")
    usage.add_argument("--by", choices=GROUPINGS, default="agent")
    usage.add_argument("--since", default="30d", help="7d, 24h or an ISO date (default 30d)")
    usage.add_argument("--until", default=None, help="ISO date (default today)")
    usage.add_argument("--agent", type=subject_id, default=None, help="only this agent's usage")
    usage.add_argument("--microdao", type=subject_id, default=None, help="only this microDAO's usage")
    output = usage.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="the report as /internal/usage answers it")
    output.add_argument("--csv", action="store_true", help="CSV with a header; the last line is the totals")
    usage.set_defaults(handler=_usage)


def subject_id(text: str) -> str:
    if not SUBJECT_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(f"expected an id of 1-128 letters, digits and . _ : -, got '{text}'")
    return text


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

    async def fetch() -> list[Any]:
        pool = await create_pool(database_url(), max_size=2)
        try:
            return await usage_report(pool, args.by, since, until, args.agent, args.microdao)
        finally:
            await pool.close()

    rows = asyncio.run(fetch())
    totals = totals_of(rows)
    if args.json:
        report = UsageReportView(args.by, since, until, True, rows, totals, args.agent, args.microdao)
        print(msgspec.json.encode(report).decode())
    elif args.csv:
        print(render_usage_csv(args.by, rows, totals), end="")
    else:
        filters = "".join(f", {name} {value}" for name, value in (("agent", args.agent), ("microdao", args.microdao))
                          if value)
        print(render_usage_table(args.by, since, until, rows, totals, filters))
    return 0
