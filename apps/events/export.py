"""`daarion events export`: the worker that publishes every ledger event to NATS JetStream exactly once
(infra/ledger/ledger_export.py). A process of its own rather than a thread of the LLM proxy: the broker's
pace and outages stay off the request path, and it can be stopped, restarted or run as several standby
replicas (one exports at a time) without touching a service."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from nats.aio.client import Client

from infra.ledger.event_store import open_ledger
from infra.ledger.jetstream_publisher import (
    JetStreamPublisher,
    NatsSettings,
    connect,
    ensure_stream,
    without_credentials,
)
from infra.ledger.ledger_export import LedgerExporter
from infra.platform.db import database_url

log = logging.getLogger("daarion.events")

RETRY_S = 1.0


async def export_until(settings: NatsSettings, stop: asyncio.Event) -> None:
    if not settings.url:
        raise SystemExit("no NATS configured: set nats.url in config/events.yaml or DAARION_NATS_URL")
    ledger = await asyncio.to_thread(open_ledger, database_url())
    try:
        connection = await _open_stream(settings, stop)
        if connection is None:
            return
        exporter = LedgerExporter(ledger, JetStreamPublisher(connection.jetstream(), settings.stream),
                                  f"nats:{settings.stream}", settings.batch_size)
        try:
            log.info("exporting the ledger to stream %s from position %d", settings.stream, await exporter.position())
            await _export(exporter, settings.interval_s, stop)
        finally:
            await asyncio.to_thread(exporter.close)
            await connection.close()
    finally:
        await asyncio.to_thread(ledger.close)


async def _open_stream(settings: NatsSettings, stop: asyncio.Event) -> Client | None:
    """Connected, with the stream in place; tried again every second until then (None: stopped first)."""
    assert settings.url is not None
    while not stop.is_set():
        try:
            connection = await connect(settings.url, "daarion-ledger-export")
            try:
                await ensure_stream(connection.jetstream(), settings)
            except Exception:
                await connection.close()
                raise
            return connection
        except Exception as exc:  # noqa: BLE001 - whatever NATS says, the answer is to try again
            log.warning("NATS at %s is not usable (%s: %s); retrying", without_credentials(settings.url),
                        type(exc).__name__, exc)
            await _pause(stop, RETRY_S)
    return None


async def _export(exporter: LedgerExporter, interval_s: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            published = await exporter.export_batch()
        except Exception as exc:  # noqa: BLE001 - the position did not move: the batch is tried again
            log.warning("export batch failed (%s: %s); retrying", type(exc).__name__, exc)
            await _pause(stop, RETRY_S)
            continue
        if published < exporter.batch_size:
            await _pause(stop, interval_s)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
