"""Near-duplicate merging on store against twins: when the check runs, what it reports, and how it steps aside
(off, a long memory, a slow or failing embedder) so the memory is stored as new."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import msgspec
import pytest

from domain.ledger.events import MemoryStored
from domain.memory.chunking import ChunkingPolicy
from domain.memory.commands import StoreMemory
from domain.memory.model import Scope
from domain.memory.near_duplicates import NearDuplicatePolicy, NearDuplicates, NearMatch
from domain.memory.service import MemoryPolicies, MemoryService
from tests.fakes.clock import FakeClock
from tests.fakes.ledger import FakeRecorder
from tests.fakes.memory import FakeEmbedder
from tests.fakes.memory_corrections import NearestIs
from tests.fakes.memory_store import InMemoryMemoryStore

SOFIA = Scope("m7", "sofia")
EXISTING = NearMatch("6f1c2d0e-7a43-4b8e-9a52-4d1f0e3c9b17", 0.97123, 1)


class SlowEmbedder(FakeEmbedder):
    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        await asyncio.sleep(0.2)
        return await super().embed(texts)


def service(nearest: NearestIs, embedder: FakeEmbedder | None = None, policy: NearDuplicatePolicy | None = None,
            policies: MemoryPolicies | None = None) -> tuple[MemoryService, InMemoryMemoryStore, FakeRecorder]:
    embedder = embedder or FakeEmbedder()
    store, recorder = InMemoryMemoryStore(), FakeRecorder()
    near = NearDuplicates(nearest, embedder, policy or NearDuplicatePolicy())
    return MemoryService(store, embedder, recorder, FakeClock(), policies or MemoryPolicies(),
                         near_duplicates=near), store, recorder


def fact(text: str) -> StoreMemory:
    return msgspec.convert({"kind": "fact", "content": {"text": text}}, StoreMemory)


async def test_a_near_duplicate_is_reported_as_merged_with_its_similarity_and_nothing_new_is_stored() -> None:
    nearest = NearestIs(EXISTING)
    memory, store, recorder = service(nearest)
    result = await memory.store(SOFIA, "r", fact("Olena is allergic to peanuts"))
    assert (result.id, result.created, result.merged, result.similarity, result.chunks) == (
        EXISTING.id, False, True, 0.9712, 1)
    [(asked, threshold)] = nearest.asked
    assert (asked.scope, asked.kind, threshold) == (SOFIA, "fact", 0.95)
    assert store.tables.items == {} and recorder.events(MemoryStored) == []


async def test_below_the_threshold_the_memory_is_stored_as_new() -> None:
    memory, store, _ = service(NearestIs(EXISTING), policy=NearDuplicatePolicy(threshold=0.99))
    result = await memory.store(SOFIA, "r", fact("Olena is allergic to peanuts"))
    assert result.created and not result.merged and list(store.tables.items) == [result.id]


async def test_a_null_threshold_neither_embeds_nor_searches() -> None:
    embedder, nearest = FakeEmbedder(), NearestIs(EXISTING)
    memory, _, _ = service(nearest, embedder, NearDuplicatePolicy(threshold=None))
    assert (await memory.store(SOFIA, "r", fact("x"))).created
    assert embedder.calls == [] and nearest.asked == []


async def test_a_memory_of_several_chunks_is_not_checked() -> None:
    nearest = NearestIs(EXISTING)
    policies = MemoryPolicies(chunking=ChunkingPolicy(max_chars=200, overlap_chars=0))
    memory, _, _ = service(nearest, policies=policies)
    result = await memory.store(SOFIA, "r", fact("One sentence about peanuts here. " * 20))
    assert result.created and result.chunks > 1 and nearest.asked == []


@pytest.mark.parametrize("embedder", [SlowEmbedder(), FakeEmbedder(fail_on="peanuts")], ids=["slow", "failing"])
async def test_an_embedder_over_its_budget_or_failing_skips_the_check_and_the_memory_is_stored(
    embedder: FakeEmbedder,
) -> None:
    nearest = NearestIs(EXISTING)
    memory, store, _ = service(nearest, embedder, NearDuplicatePolicy(budget_s=0.05))
    result = await memory.store(SOFIA, "r", fact("Olena is allergic to peanuts"))
    assert result.created and nearest.asked == [] and list(store.tables.items) == [result.id]


@pytest.mark.parametrize("fields", [{"threshold": 0}, {"threshold": 1.01}, {"budget_s": 0}])
def test_a_threshold_outside_0_to_1_or_a_budget_not_positive_is_refused_at_start_up(fields: dict[str, float]) -> None:
    with pytest.raises(msgspec.ValidationError, match="near_duplicates"):
        msgspec.convert(fields, NearDuplicatePolicy)
