"""`daarion events export | tail`: the usage ledger on NATS JetStream."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from apps.events.settings import load_events_settings


def register(subparsers: Any) -> None:
    events = subparsers.add_parser("events", help="the usage ledger's events on NATS JetStream")
    actions = events.add_subparsers(dest="events_command", required=True)

    export = actions.add_parser(
        "export", help="publish every ledger event to JetStream, exactly once (SIGTERM or Ctrl-C stops it)",
        description="Subjects daarion.ledger.<event type>.<microDAO>; see the README's 'NATS JetStream export'.")
    export.set_defaults(handler=lambda args: _run(_export, args, migrate=True))

    tail = actions.add_parser("tail", help="print the ledger's events as they are published")
    tail.add_argument("--type", dest="event_type", help="one event type, e.g. LlmCallCompleted")
    tail.add_argument("--microdao", help="one microDAO, e.g. microdao:7")
    tail.add_argument("--json", action="store_true", help="print each event's JSON payload")
    tail.add_argument("--all", dest="replay", action="store_true", help="start from the stream's first event")
    tail.add_argument("--limit", type=int, help="stop after this many events")
    tail.set_defaults(handler=lambda args: _run(_tail, args, migrate=False))


def _run(command: Callable[[argparse.Namespace, asyncio.Event], Awaitable[int]], args: argparse.Namespace,
         migrate: bool) -> int:
    if migrate:
        from apps.cli import prepare_database  # migrates the embedded database, as `daarion serve` does

        prepare_database()

    async def main() -> int:
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        return await command(args, stop)

    return asyncio.run(main())


async def _export(args: argparse.Namespace, stop: asyncio.Event) -> int:
    from apps.events.export import export_until

    await export_until(load_events_settings().nats, stop)
    return 0


async def _tail(args: argparse.Namespace, stop: asyncio.Event) -> int:
    from apps.events.tail import tail

    return await tail(load_events_settings().nats, args.event_type, args.microdao, args.json, args.replay,
                      args.limit, stop)
