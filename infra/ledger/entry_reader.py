"""Reads chosen ledger entries by id: the history of a memory asks for the entries its versions derive."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from domain.ledger.application import UsageLedger


class LedgerEntryReader:
    def __init__(self, ledger: UsageLedger) -> None:
        self._ledger = ledger

    async def events(self, entry_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
        # eventsourcing is synchronous: read off the event loop.
        return await asyncio.to_thread(self._read, list(entry_ids))

    def _read(self, entry_ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
        """One indexed read per entry (by originator id), through the ledger's recorder and mapper."""
        found = {}
        for entry_id in entry_ids:
            if stored := self._ledger.recorder.select_events(entry_id, limit=1):
                found[entry_id] = self._ledger.mapper.to_domain_event(stored[0])
        return found
