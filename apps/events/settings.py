"""The ledger export's settings: config/events.yaml (`nats:`) with the environment laid over it."""

from __future__ import annotations

from pathlib import Path

import msgspec

from infra.ledger.jetstream_publisher import NatsSettings
from infra.platform.settings import config_path, load_settings

SERVICE = "ledger-export"


class EventsSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    nats: NatsSettings = NatsSettings()


def load_events_settings(path: Path | None = None) -> EventsSettings:
    return load_settings(EventsSettings, SERVICE, path or config_path("events.yaml", "DAARION_EVENTS_CONFIG"))
