"""What the usage ledger needs from storage: a durable writer and a lookup of what is already recorded."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from domain.ledger.events import LedgerEntry


class UsageRecorder(Protocol):
    async def record(self, entry: LedgerEntry) -> int:
        """Returns once the entry is committed; the result is its ledger position."""
        ...


class LedgerLookup(Protocol):
    async def recorded(self, entry_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """The ids among `entry_ids` that the usage ledger already holds."""
        ...
