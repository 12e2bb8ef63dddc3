"""MemoryStore, searching: InMemoryMemoryStore and PgMemoryStore find the same chunks in the same scope.

The text leg finds an item as soon as it is stored; the vector leg only once the indexing queue of the
same world has written vectors of the model searched.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from tests.contracts.memory_world import (
    MemoryWorld,
    unit,
    world_fixture,  # noqa: F401 - the `world` fixture
)
from tests.contracts.support import unique

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


async def test_a_fresh_memory_is_found_by_its_words_before_any_indexing(world: MemoryWorld) -> None:
    item_id = await world.add(user_message="the escrow contract draft", agent_reply="noted", channel_id="c")
    [hit] = await world.store.text_search(world.search("escrow draft"), 10)
    assert (hit.item_id, hit.tier, hit.kind, hit.channel_id) == (item_id, "mid", "conversation", "c")
    assert (hit.text_rank, hit.vector_rank, hit.seq) == (1, None, 0)
    assert hit.text == "User: the escrow contract draft\nAgent: noted"


async def test_full_text_search_sees_only_what_the_scope_may_see(world: MemoryWorld) -> None:
    mine = await world.add("marketplace escrow notes")
    await world.add("marketplace escrow notes of a colleague", agent=unique("agent"))
    await world.add("marketplace escrow notes elsewhere", microdao=unique("m"))
    document = await world.store.put_document(world.document("Escrow", "marketplace escrow guide"), world.model)
    await world.store.put_document(world.document("Escrow", "marketplace escrow guide", microdao=unique("m")),
                                   world.model)
    found = await world.store.text_search(world.search("escrow"), 10)
    assert {hit.item_id for hit in found} == {mine, document.id}
    [long] = await world.store.text_search(world.search("escrow", tiers=["long"]), 10)
    assert (long.item_id, long.tier, long.title, long.seq) == (document.id, "long", "Escrow", 0)
    assert long.text == world.document("Escrow", "marketplace escrow guide").chunks[0], "a document hit is its chunk"
    [mid] = await world.store.text_search(world.search("escrow", tiers=["mid"]), 10)
    assert mid.item_id == mine


async def test_search_filters_narrow_by_kind_time_and_metadata(world: MemoryWorld) -> None:
    fact = await world.add("treasury report", occurred_at=T0, metadata={"topic": "money", "year": 2026})
    turn = await world.add(user_message="treasury report?", agent_reply="soon", occurred_at=T0 + timedelta(days=2))
    assert [h.item_id for h in await world.store.text_search(world.search("treasury", kinds=["fact"]), 10)] == [fact]
    later = world.search("treasury", since=T0 + timedelta(days=1))
    assert [h.item_id for h in await world.store.text_search(later, 10)] == [turn]
    earlier = world.search("treasury", until=T0 + timedelta(days=1))
    assert [h.item_id for h in await world.store.text_search(earlier, 10)] == [fact]
    tagged = world.search("treasury", metadata={"topic": "money"})
    assert [h.item_id for h in await world.store.text_search(tagged, 10)] == [fact]
    assert await world.store.text_search(world.search("treasury", metadata={"topic": "tea"}), 10) == []


async def test_full_text_search_ranks_from_one_and_returns_at_most_per_leg(world: MemoryWorld) -> None:
    for n in range(3):
        await world.add(f"grant budget item {n}")
    found = await world.store.text_search(world.search("grant"), 2)
    assert [hit.text_rank for hit in found] == [1, 2]


async def test_vector_search_sees_only_vectors_of_its_model_written_by_the_queue(world: MemoryWorld) -> None:
    indexed, waiting = await world.add("indexed memory"), await world.add("not yet indexed")
    assert await world.store.vector_search(world.search("memory"), unit(0), world.model, 10) == []
    await world.index({indexed: unit(0)})
    [hit] = await world.store.vector_search(world.search("memory"), unit(0), world.model, 10)
    assert (hit.item_id, hit.vector_rank, hit.text_rank) == (indexed, 1, None)
    assert await world.store.vector_search(world.search("memory"), unit(0), unique("other-model"), 10) == []
    assert waiting != indexed


async def test_vector_search_ranks_the_nearest_first_within_the_scope(world: MemoryWorld) -> None:
    near, far = await world.add("near"), await world.add("far")
    other = await world.add("other agent", agent=unique("agent"))
    await world.index({near: [0.9, 0.1, 0, 0], far: unit(1), other: unit(0)})
    found = await world.store.vector_search(world.search("anything"), unit(0), world.model, 10)
    assert [(hit.item_id, hit.vector_rank) for hit in found] == [(near, 1), (far, 2)]
    assert len(await world.store.vector_search(world.search("anything"), unit(0), world.model, 1)) == 1


async def test_get_counts_the_chunks_indexed_with_the_model_asked_about(world: MemoryWorld) -> None:
    item_id = await world.add("count my vectors")
    await world.index({item_id: unit(2)})
    record = await world.store.get(world.scope, item_id, world.model)
    other = await world.store.get(world.scope, item_id, unique("other-model"))
    assert record is not None and other is not None
    assert (record.indexed_chunks, other.indexed_chunks) == (1, 0)


async def test_stem_prefixes_match_other_forms_of_a_ukrainian_word(world: MemoryWorld) -> None:
    item_id = await world.add("Реліз платіжного сервісу перенесли на вечір п'ятниці")
    await world.add("Купили нову каву для офісу")
    search = msgspec.structs.replace(world.search("платіжний реліз"), terms=["реліз"], prefixes=["платіж"])
    [hit] = await world.store.text_search(search, 10)
    assert hit.item_id == item_id
