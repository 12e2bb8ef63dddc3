"""`daarion events tail`: follow the ledger's events on NATS JetStream, one line each (or the JSON payload)."""

from __future__ import annotations

import asyncio
import sys
from typing import Any, TextIO

import msgspec
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import DeliverPolicy

from domain.ledger.export import subject_filter
from infra.ledger.jetstream_publisher import NatsSettings, connect

# What a line shows of an event, when the event has it.
_SUMMARY = ("request_id", "logical_model", "tool_id", "memory_id", "key_id", "status", "prompt_tokens",
            "completion_tokens", "cost_usd", "latency_ms")


async def tail(settings: NatsSettings, event_type: str | None, microdao_id: str | None, as_json: bool,
               replay: bool, limit: int | None, stop: asyncio.Event, out: TextIO = sys.stdout) -> int:
    """Prints events until `stop` (or `limit` of them); `replay` starts from the stream's first event."""
    if not settings.url:
        raise SystemExit("no NATS configured: set nats.url in config/events.yaml or DAARION_NATS_URL")
    connection = await connect(settings.url, "daarion-events-tail")
    try:
        subscription = await connection.jetstream().subscribe(
            subject_filter(event_type, microdao_id), stream=settings.stream, ordered_consumer=True,
            deliver_policy=DeliverPolicy.ALL if replay else DeliverPolicy.NEW)
        printed = 0
        while not stop.is_set() and (limit is None or printed < limit):
            try:
                message = await subscription.next_msg(timeout=0.5)
            except NatsTimeout:
                continue
            print(message.data.decode() if as_json else line(msgspec.json.decode(message.data)), file=out, flush=True)
            printed += 1
        return 0
    finally:
        await connection.close()


def line(payload: dict[str, Any]) -> str:
    """`<timestamp> #<position> <type> <microDAO> <agent> key=value ...`"""
    data = payload.get("data") or {}
    facts = " ".join(f"{name}={data[name]}" for name in _SUMMARY if data.get(name) is not None)
    return (f"{payload.get('timestamp')} #{payload.get('position')} {payload.get('type')} "
            f"{data.get('microdao_id') or '-'} {data.get('agent_id') or '-'} {facts}").rstrip()
