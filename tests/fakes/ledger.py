"""Twins of the ledger's ports: a recorder that keeps what it was given, a lookup over a set of ids."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from domain.ledger.events import LedgerEntry

T = TypeVar("T")


class RecordedEvents(list[Any]):
    """Every recorded event, in order; called with an event class, the events of that class."""

    def __call__(self, kind: type[T]) -> list[T]:
        return [event for event in self if isinstance(event, kind)]


class FakeRecorder:
    """The UsageRecorder twin. An entry id it already holds is not recorded again (a retried write of an
    entry with a deterministic id, as the ledger's recorders treat it); its first position comes back."""

    def __init__(self) -> None:
        self.entries: list[Any] = []  # LedgerEntry; Any lets a test read its events' fields unchecked
        self.events = RecordedEvents()
        self.ids: set[uuid.UUID] = set()
        self._positions: dict[uuid.UUID, int] = {}

    async def record(self, entry: LedgerEntry) -> int:
        if entry.id not in self._positions:
            # Read, not collected: a test may still look at the entry's pending events.
            self.events.extend(entry.pending_events)
            self.entries.append(entry)
            self.ids.add(entry.id)
            self._positions[entry.id] = len(self.events)
        return self._positions[entry.id]


class SetLookup:
    """The LedgerLookup twin; give it a FakeRecorder's `ids` to see what that recorder holds."""

    def __init__(self, recorded: set[uuid.UUID] | None = None) -> None:
        self.ids = recorded if recorded is not None else set()

    async def recorded(self, entry_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        return {entry_id for entry_id in entry_ids if entry_id in self.ids}
