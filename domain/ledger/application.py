"""The usage ledger as an eventsourcing Application: the one place entries are saved and positions read."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from eventsourcing.application import Application

from domain.ledger.events import LedgerEntry


class UsageLedger(Application[uuid.UUID]):
    """The event-sourced usage ledger. Synchronous (eventsourcing has no async API): call off the loop."""

    name = "UsageLedger"

    def record(self, entries: Sequence[LedgerEntry]) -> list[int]:
        """Commits the entries in one transaction and returns their notification ids."""
        recordings = self.save(*entries)
        return [r.notification.id for r in recordings]

    def max_position(self) -> int:
        return self.recorder.max_notification_id() or 0
