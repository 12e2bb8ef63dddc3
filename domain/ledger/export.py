"""Ledger events as broker messages: subject, event id and JSON payload. Pure; infra publishes them.

    subject  daarion.ledger.<event type>.<microDAO token>     e.g. daarion.ledger.LlmCallCompleted.microdao_7
    id       <entry id>:<version>                               the Nats-Msg-Id the broker de-duplicates by
    payload  {"event_id", "type", "position", "timestamp", "data": {the event's own fields}}

A subject token may hold only letters, digits, `_` and `-`: every other character of the microDAO id
becomes `_` (`microdao:7` -> `microdao_7`), and an event of no microDAO (an operator key's) goes to
`_global`. The token is for routing only; the exact id is `data.microdao_id`. Events hold no secrets
(domain.ledger.events), so the payload is the event as stored.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

SUBJECT_PREFIX = "daarion.ledger"
GLOBAL_TOKEN = "_global"
_NOT_A_TOKEN_CHARACTER = re.compile(r"[^A-Za-z0-9_-]")
# Said by the payload's own keys (event_id, type, timestamp) or meaningless off this database.
_ENVELOPE = ("originator_id", "originator_version", "originator_topic", "timestamp")


class ExportedEvent(msgspec.Struct, frozen=True):
    subject: str
    event_id: str
    event_type: str
    position: int
    payload: bytes


def subject_token(microdao_id: str | None) -> str:
    if not microdao_id:
        return GLOBAL_TOKEN
    return _NOT_A_TOKEN_CHARACTER.sub("_", microdao_id)


def subject_of(event_type: str, microdao_id: str | None) -> str:
    return f"{SUBJECT_PREFIX}.{event_type}.{subject_token(microdao_id)}"


def subject_filter(event_type: str | None = None, microdao_id: str | None = None) -> str:
    """The subjects of one event type and/or one microDAO (a wildcard where not given)."""
    microdao = "*" if microdao_id is None else subject_token(microdao_id)
    return f"{SUBJECT_PREFIX}.{event_type or '*'}.{microdao}"


def event_id(event: Any) -> str:
    return f"{event.originator_id}:{event.originator_version}"


def exported(event: Any, position: int) -> ExportedEvent:
    """`event`: a stored ledger event; `position`: its place in the ledger (the notification id)."""
    event_type = type(event).__name__
    data = {name: value for name, value in vars(event).items() if name not in _ENVELOPE}
    payload = {"event_id": event_id(event), "type": event_type, "position": position,
               "timestamp": event.timestamp, "data": data}
    return ExportedEvent(subject_of(event_type, data.get("microdao_id")), event_id(event), event_type, position,
                         msgspec.json.encode(payload))
