"""The ledger's events on NATS JetStream: one stream over `daarion.ledger.>` (created if missing) and a
publisher that sends a batch at once and returns when JetStream has acknowledged every message.

Each message carries `Nats-Msg-Id` = the event id: JetStream keeps the ids it saw within the stream's
duplicate window and acknowledges a repeat as `duplicate` without storing it again. That is what makes a
re-publish after a crash harmless (infra/ledger/ledger_export.py), so the window must be longer than an
exporter takes to come back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Annotated
from urllib.parse import urlsplit

import msgspec
import nats
from nats.aio.client import Client
from nats.js.api import PubAck, StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from domain.ledger.export import SUBJECT_PREFIX, ExportedEvent

log = logging.getLogger(__name__)

SUBJECTS = f"{SUBJECT_PREFIX}.>"


async def connect(url: str, name: str) -> Client:
    """`url`: one server or a cluster's, comma-separated. Once connected, the client reconnects by itself."""
    return await nats.connect(servers=[server.strip() for server in url.split(",")], name=name,
                              max_reconnect_attempts=-1, reconnect_time_wait=1, connect_timeout=3)


def without_credentials(url: str) -> str:
    """The servers of `url` as a log line may name them: no user, password or token."""
    servers = (urlsplit(server.strip()) for server in url.split(","))
    return ",".join(server._replace(netloc=server.netloc.rpartition("@")[2]).geturl() for server in servers)


class NatsSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`nats:` in a service's settings. No `url`: nothing is exported (the embedded default needs no NATS)."""

    url: str | None = None                      # DAARION_NATS_URL; a cluster's servers comma-separated
    stream: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = "daarion-ledger"
    duplicate_window_s: Annotated[float, msgspec.Meta(gt=0)] = 600.0   # for a stream this creates
    replicas: Annotated[int, msgspec.Meta(ge=1, le=5)] = 1              # for a stream this creates
    max_age_s: Annotated[float, msgspec.Meta(ge=0)] = 0.0               # 0: kept until removed
    batch_size: Annotated[int, msgspec.Meta(ge=1, le=10000)] = 500
    interval_s: Annotated[float, msgspec.Meta(gt=0)] = 0.2             # the pause once caught up


async def ensure_stream(js: JetStreamContext, settings: NatsSettings) -> None:
    """Creates the stream if it is missing; an existing one is left as its operator configured it."""
    try:
        info = await js.stream_info(settings.stream)
    except NotFoundError:
        await js.add_stream(StreamConfig(
            name=settings.stream, subjects=[SUBJECTS], storage=StorageType.FILE, num_replicas=settings.replicas,
            duplicate_window=settings.duplicate_window_s, max_age=settings.max_age_s or None))
        log.info("created JetStream stream %s over %s", settings.stream, SUBJECTS)
        return
    if info.config.duplicate_window and info.config.duplicate_window < settings.duplicate_window_s:
        log.warning("stream %s de-duplicates over %g s, less than the configured %g s: a publisher down longer "
                    "than that may publish an event twice", settings.stream, info.config.duplicate_window,
                    settings.duplicate_window_s)


class JetStreamPublisher:
    def __init__(self, js: JetStreamContext, stream: str, ack_timeout_s: float = 10.0) -> None:
        self._js = js
        self._stream = stream
        self._ack_timeout_s = ack_timeout_s

    async def publish(self, events: Sequence[ExportedEvent]) -> int:
        acks: list[asyncio.Future[PubAck]] = []
        try:
            for event in events:
                headers = {"Nats-Msg-Id": event.event_id, "Daarion-Event-Type": event.event_type}
                acks.append(await self._js.publish_async(event.subject, event.payload, stream=self._stream,
                                                         headers=headers))
            done = await asyncio.wait_for(asyncio.gather(*acks), self._ack_timeout_s)
        except BaseException:
            for ack in acks:
                ack.cancel()
            raise
        return sum(1 for ack in done if ack.duplicate)
