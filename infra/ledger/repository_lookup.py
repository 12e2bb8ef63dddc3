"""Which ledger entries already exist: lets a retried indexing job skip the entry its crashed try wrote."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from domain.ledger.application import UsageLedger


class LedgerRepositoryLookup:
    def __init__(self, ledger: UsageLedger) -> None:
        self._ledger = ledger

    async def recorded(self, entry_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        # eventsourcing is synchronous: ask off the event loop.
        return await asyncio.to_thread(self._present, list(entry_ids))

    def _present(self, entry_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        return {entry_id for entry_id in entry_ids if entry_id in self._ledger.repository}
