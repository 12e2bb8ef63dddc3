"""What the usage ledger needs from storage: a durable writer and a lookup of what is already recorded."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from domain.ledger.events import LedgerEntry
from domain.ledger.export import ExportedEvent


class UsageRecorder(Protocol):
    """The durable writer of the usage ledger.

    An entry whose id the ledger already holds is accepted and changes nothing: not an error, not a second
    count. Writers that may repeat a write (a client retrying after a failed commit, a job run again) give
    their entries ids derived from what they record (uuid5 over a fixed namespace), so a repeat finds the
    entry of the first try, or writes it if that try never committed. Entries of fresh facts take random
    ids (`new_entry`) and cannot collide.
    """

    async def record(self, entry: LedgerEntry) -> int:
        """Returns once the entry is committed (or found already committed); the result is a ledger
        position at or after the entry's. Raises ServiceUnavailable when the ledger cannot commit."""
        ...


class LedgerLookup(Protocol):
    async def recorded(self, entry_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """The ids among `entry_ids` that the usage ledger already holds."""
        ...


class EventPublisher(Protocol):
    """Where ledger events are exported (a broker such as NATS JetStream)."""

    async def publish(self, events: Sequence[ExportedEvent]) -> int:
        """Returns once the broker has stored every one of them, with how many it already held (a repeat of
        an event id within its de-duplication window is acknowledged and not stored again); raises if any
        was not stored."""
        ...
