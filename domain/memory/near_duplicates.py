"""Near-duplicates on store: a memory that says what one of the agent's memories already says is merged
into it (counted there as seen again) instead of stored beside it.

What counts: the same agent and microDAO, the same kind and channel (two channels' short-term turns must
stay each other's), both one chunk long, cosine similarity of their vectors >= `threshold`. Identical
content and a replayed idempotency key are the store's exact deduplication, checked first: a retry is
never counted as a merge.

Vectors are made asynchronously by the indexing queue, so the new text is embedded here, on the request,
with the service's own embedder and within `budget_s`. When the embedder is slow, remote or down, the
check is skipped and the memory is stored as new (exact deduplication still applies); a memory stored
so recently that its own vector is not written yet is not found as a near-duplicate either.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

import msgspec

from domain.kernel.errors import DaarionError
from domain.memory.model import NewMemory
from domain.memory.ports import Embedder
from domain.memory.records import StoreResult

log = logging.getLogger(__name__)


class NearDuplicatePolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`threshold` None turns the check off (exact deduplication only)."""

    threshold: float | None = 0.95
    budget_s: float = 0.05

    def __post_init__(self) -> None:
        if self.threshold is not None and not 0 < self.threshold <= 1:
            raise ValueError("near_duplicates.threshold must be in (0, 1], or null to turn the check off")
        if self.budget_s <= 0:
            raise ValueError("near_duplicates.budget_s must be positive")


class NearMatch(msgspec.Struct, frozen=True):
    id: str
    similarity: float
    chunks: int


class NearDuplicateStore(Protocol):
    async def merge_nearest(
        self, memory: NewMemory, vector: Sequence[float], model: str, threshold: float,
    ) -> NearMatch | None:
        """Unless a memory of `memory`'s agent has its content or idempotency key: the nearest memory of
        that agent with `memory`'s kind and channel, one chunk long, whose vector of `model` has cosine
        similarity >= `threshold`, counted as seen again (merge count + 1, last seen now). None otherwise."""
        ...


class NearDuplicates:
    def __init__(self, store: NearDuplicateStore, embedder: Embedder, policy: NearDuplicatePolicy) -> None:
        self._store = store
        self._embedder = embedder
        self._policy = policy

    async def merge(self, memory: NewMemory) -> StoreResult | None:
        """The memory `memory` was merged into, or None: store it (the check is off, skipped or found none)."""
        threshold = self._policy.threshold
        if threshold is None or len(memory.chunks) != 1:
            return None
        try:
            [vector] = await asyncio.wait_for(self._embedder.embed(memory.chunks), self._policy.budget_s)
        except TimeoutError:
            log.info("near-duplicate check skipped: embedding took over %.3f s", self._policy.budget_s)
            return None
        except DaarionError as exc:
            log.warning("near-duplicate check skipped: %s", exc.message)
            return None
        match = await self._store.merge_nearest(memory, vector, self._embedder.model, threshold)
        if match is None:
            return None
        return StoreResult(match.id, False, match.chunks, merged=True, similarity=round(match.similarity, 4))
