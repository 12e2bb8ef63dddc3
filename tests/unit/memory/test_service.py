"""MemoryService against fakes: ledger records, dedup, tier merging, degraded search, forgetting."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import msgspec
import pytest

from domain.kernel.errors import InvalidRequest, NotFound
from domain.ledger.events import MemoryForgotten, MemoryStored
from domain.memory.commands import PostDocument, QueryMemory, Search, StoreMemory
from domain.memory.model import Scope
from domain.memory.ranking import Candidate
from domain.memory.service import MemoryPolicies, MemoryService
from tests.fakes.clock import FakeClock
from tests.fakes.ledger import FakeRecorder
from tests.fakes.memory import FakeEmbedder
from tests.fakes.memory_store import InMemoryMemoryStore

SOFIA = Scope("m7", "sofia")


def service(embedder: FakeEmbedder | None = None) -> tuple[MemoryService, InMemoryMemoryStore, FakeRecorder]:
    store, recorder = InMemoryMemoryStore(), FakeRecorder()
    return MemoryService(store, embedder or FakeEmbedder(), recorder, FakeClock(), MemoryPolicies()), store, recorder


def turn(user: str, reply: str = "ok", **extra: object) -> StoreMemory:
    return msgspec.convert({"channel_id": "c1", "content": {"user_message": user, "agent_reply": reply}, **extra},
                           StoreMemory)


def ask(text: str, **extra: object) -> QueryMemory:
    return msgspec.convert({"query": text, **extra}, QueryMemory)


async def test_a_stored_memory_is_recorded_once_in_the_ledger_with_its_size_and_kind() -> None:
    memory, _, recorder = service()
    first = await memory.store(SOFIA, "req-1", turn("my dog is Rex"))
    again = await memory.store(SOFIA, "req-2", turn("my dog is Rex"))
    assert first.created and not again.created and again.id == first.id
    [event] = recorder.events(MemoryStored)
    assert (event.request_id, event.memory_id, event.agent_id, event.microdao_id, event.tier, event.kind,
            event.content_bytes) == ("req-1", first.id, "sofia", "m7", "mid", "conversation", len("my dog is Rex") + 2)


async def test_storing_wakes_the_indexing_worker_only_for_new_memories() -> None:
    woken: list[int] = []
    store = InMemoryMemoryStore()
    memory = MemoryService(store, FakeEmbedder(), FakeRecorder(), FakeClock(), MemoryPolicies(),
                           on_enqueued=lambda: woken.append(1))
    await memory.store(SOFIA, "r", turn("a"))
    await memory.store(SOFIA, "r", turn("a"))
    assert len(woken) == 1


async def test_short_term_turns_come_oldest_first_and_are_not_repeated_in_the_ranking() -> None:
    memory, _, _ = service()
    clock_start = FakeClock().now()
    for minute, text in enumerate(["pizza for dinner", "pizza again tomorrow", "weather is fine"]):
        await memory.store(SOFIA, "r", turn(text, occurred_at=(clock_start + timedelta(minutes=minute)).isoformat()))
    await memory.store(SOFIA, "r", turn("pizza in another channel", channel_id="c2"))
    result = await memory.query(SOFIA, ask("pizza", channel_id="c1", limit=5))
    assert [t.user_message for t in result.short_term] == ["pizza for dinner", "pizza again tomorrow",
                                                          "weather is fine"]
    assert [hit.text for hit in result.memories] == ["User: pizza in another channel\nAgent: ok"]


async def test_tiers_short_alone_skips_the_search_and_the_query_embedding() -> None:
    embedder = FakeEmbedder()
    memory, _, _ = service(embedder)
    await memory.store(SOFIA, "r", turn("pizza"))
    result = await memory.query(SOFIA, ask("pizza", channel_id="c1", tiers=["short"]))
    assert len(result.short_term) == 1 and result.memories == []
    assert embedder.calls == []


async def test_an_embedder_outage_degrades_a_query_to_full_text_instead_of_failing_it() -> None:
    memory, _, _ = service(FakeEmbedder(fail_on="pizza"))
    await memory.store(SOFIA, "r", turn("we ordered pizza"))
    result = await memory.query(SOFIA, ask("pizza"))
    assert [hit.text for hit in result.memories] == ["User: we ordered pizza\nAgent: ok"]


async def test_forgetting_records_the_ids_and_an_unknown_or_malformed_id_is_refused() -> None:
    memory, _, recorder = service()
    stored = await memory.store(SOFIA, "r", turn("secret"))
    assert await memory.forget(SOFIA, "req-f", stored.id) == [stored.id]
    [event] = recorder.events(MemoryForgotten)
    assert (event.request_id, event.memory_ids, event.agent_id, event.microdao_id, event.tier) == (
        "req-f", [stored.id], "sofia", "m7", "mid")
    with pytest.raises(NotFound):
        await memory.forget(SOFIA, "r", stored.id)
    with pytest.raises(InvalidRequest, match="is not a UUID"):
        await memory.get(SOFIA, "not-an-id")


async def test_forgetting_an_agent_forgets_its_memories_in_its_own_microdao_only_and_records_them() -> None:
    memory, store, recorder = service()
    gone = {(await memory.store(SOFIA, "r", turn(text))).id for text in ("one", "two")}
    elsewhere = await memory.store(Scope("m8", "sofia"), "r", turn("three"))
    colleague = await memory.store(Scope("m7", "petro"), "r", turn("four"))
    assert set(await memory.forget_agent(SOFIA, "req")) == gone
    [event] = recorder.events(MemoryForgotten)
    assert (event.request_id, event.microdao_id, event.agent_id, set(event.memory_ids)) == ("req", "m7", "sofia", gone)
    assert set(store.tables.items) == {elsewhere.id, colleague.id}


async def test_another_agents_or_microdaos_memory_reads_and_forgets_as_missing() -> None:
    memory, store, _ = service()
    stored = await memory.store(SOFIA, "r", turn("secret"))
    document = await memory.put_document(SOFIA, "r", PostDocument("Guide", text="shared with the microDAO"))
    for stranger in (Scope("m7", "petro"), Scope("m8", "sofia")):
        with pytest.raises(NotFound):
            await memory.get(stranger, stored.id)
        with pytest.raises(NotFound):
            await memory.forget(stranger, "r", stored.id)
    assert (await memory.get(Scope("m7", "petro"), document.id)).id == document.id, "the knowledge base is shared"
    with pytest.raises(NotFound):
        await memory.get_document(Scope("m8", "sofia"), document.id)
    with pytest.raises(NotFound):
        await memory.forget(Scope("m8", "sofia"), "r", document.id, tier="long")
    assert set(store.tables.items) == {stored.id, document.id}


async def test_the_full_text_leg_runs_while_the_query_is_being_embedded() -> None:
    events: list[str] = []

    class SlowEmbedder(FakeEmbedder):
        async def embed(self, texts: Sequence[str]) -> list[list[float]]:
            events.append("embed started")
            await asyncio.sleep(0.05)
            events.append("embed finished")
            return await super().embed(texts)

    class WatchedStore(InMemoryMemoryStore):
        async def text_search(self, search: Search, per_leg: int) -> list[Candidate]:
            events.append("text leg started")
            return await super().text_search(search, per_leg)

    embedder = SlowEmbedder()
    memory = MemoryService(WatchedStore(vectorize=embedder.vector), embedder, FakeRecorder(), FakeClock(),
                           MemoryPolicies())
    await memory.query(SOFIA, ask("anything"))
    assert events.index("text leg started") < events.index("embed finished")


async def test_a_memory_found_by_both_legs_outranks_one_found_by_words_alone() -> None:
    embedder = FakeEmbedder()
    store = InMemoryMemoryStore(vectorize=embedder.vector)
    memory = MemoryService(store, embedder, FakeRecorder(), FakeClock(), MemoryPolicies())
    both = await memory.store(SOFIA, "r", turn("rex vet appointment friday", "noted"))
    await memory.store(SOFIA, "r", turn("the vet bill was high", "ok"))
    result = await memory.query(SOFIA, ask("rex vet appointment"))
    assert result.memories[0].id == both.id
