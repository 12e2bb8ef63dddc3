"""Memory health as an operator sees it: items per tier and microDAO, the indexing backlog, dead letters."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import msgspec

from domain.memory.queue import QueueStats


class TierCount(msgspec.Struct, frozen=True):
    microdao_id: str
    tier: str
    items: int


class DeadJob(msgspec.Struct, frozen=True):
    job_id: int
    microdao_id: str
    item_id: str
    model: str
    attempts: int
    error: str | None
    dead_at: datetime


class MemoryHealth(msgspec.Struct, frozen=True):
    items: list[TierCount]
    queue: list[QueueStats]
    dead: list[DeadJob]


class MemoryHealthReadings(Protocol):
    async def health(self, microdao_id: str | None, dead_limit: int = 50) -> MemoryHealth: ...

    async def retry_dead(self, job_id: int, microdao_id: str | None) -> bool:
        """Puts a dead job back in the queue (attempts from zero); False when there is no such dead job (of
        `microdao_id`, when given)."""
        ...
