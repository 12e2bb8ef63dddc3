"""Which ledger entries already exist: lets a retried write skip the entry its failed or crashed try wrote."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Sequence

from domain.ledger.application import UsageLedger


class LedgerRepositoryLookup:
    def __init__(self, ledger: UsageLedger) -> None:
        self._ledger = ledger

    async def recorded(self, entry_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        # eventsourcing is synchronous: ask off the event loop.
        return await asyncio.to_thread(recorded_ids, self._ledger, entry_ids)


def recorded_ids(ledger: UsageLedger, entry_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """The ids among `entry_ids` the ledger holds: one indexed read per id, through the ledger's recorder."""
    return {entry_id for entry_id in entry_ids if ledger.recorder.select_events(entry_id, limit=1)}
