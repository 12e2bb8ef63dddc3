"""MemoryService against fakes: ledger records, dedup, tier merging, degraded search, forgetting."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import msgspec
import pytest

from domain.kernel.errors import InvalidRequest, NotFound
from domain.ledger.events import MemoryForgotten, MemoryStored
from domain.memory.commands import QueryMemory, Search, StoreMemory
from domain.memory.ranking import Candidate
from domain.memory.service import MemoryPolicies, MemoryService
from tests.fakes.clock import FakeClock
from tests.fakes.ledger import FakeRecorder
from tests.fakes.memory import FakeEmbedder
from tests.fakes.memory_store import InMemoryMemoryStore


def service(embedder: FakeEmbedder | None = None) -> tuple[MemoryService, InMemoryMemoryStore, FakeRecorder]:
    store, recorder = InMemoryMemoryStore(), FakeRecorder()
    return MemoryService(store, embedder or FakeEmbedder(), recorder, FakeClock(), MemoryPolicies()), store, recorder


def turn(user: str, reply: str = "ok", **extra: object) -> StoreMemory:
    return msgspec.convert({"agent_id": "sofia", "microdao_id": "m7", "channel_id": "c1",
                            "content": {"user_message": user, "agent_reply": reply}, **extra}, StoreMemory)


def ask(text: str, **extra: object) -> QueryMemory:
    return msgspec.convert({"agent_id": "sofia", "microdao_id": "m7", "query": text, **extra}, QueryMemory)


async def test_a_stored_memory_is_recorded_once_in_the_ledger_with_its_size_and_kind() -> None:
    memory, _, recorder = service()
    first = await memory.store("req-1", turn("my dog is Rex"))
    again = await memory.store("req-2", turn("my dog is Rex"))
    assert first.created and not again.created and again.id == first.id
    [event] = recorder.events(MemoryStored)
    assert (event.request_id, event.memory_id, event.agent_id, event.microdao_id, event.tier, event.kind,
            event.content_bytes) == ("req-1", first.id, "sofia", "m7", "mid", "conversation", len("my dog is Rex") + 2)


async def test_storing_wakes_the_indexing_worker_only_for_new_memories() -> None:
    woken: list[int] = []
    store = InMemoryMemoryStore()
    memory = MemoryService(store, FakeEmbedder(), FakeRecorder(), FakeClock(), MemoryPolicies(),
                           on_enqueued=lambda: woken.append(1))
    await memory.store("r", turn("a"))
    await memory.store("r", turn("a"))
    assert len(woken) == 1


async def test_short_term_turns_come_oldest_first_and_are_not_repeated_in_the_ranking() -> None:
    memory, _, _ = service()
    clock_start = FakeClock().now()
    for minute, text in enumerate(["pizza for dinner", "pizza again tomorrow", "weather is fine"]):
        await memory.store("r", turn(text, occurred_at=(clock_start + timedelta(minutes=minute)).isoformat()))
    await memory.store("r", turn("pizza in another channel", channel_id="c2"))
    result = await memory.query(ask("pizza", channel_id="c1", limit=5))
    assert [t.user_message for t in result.short_term] == ["pizza for dinner", "pizza again tomorrow",
                                                          "weather is fine"]
    assert [hit.text for hit in result.memories] == ["User: pizza in another channel\nAgent: ok"]


async def test_tiers_short_alone_skips_the_search_and_the_query_embedding() -> None:
    embedder = FakeEmbedder()
    memory, _, _ = service(embedder)
    await memory.store("r", turn("pizza"))
    result = await memory.query(ask("pizza", channel_id="c1", tiers=["short"]))
    assert len(result.short_term) == 1 and result.memories == []
    assert embedder.calls == []


async def test_an_embedder_outage_degrades_a_query_to_full_text_instead_of_failing_it() -> None:
    memory, _, _ = service(FakeEmbedder(fail_on="pizza"))
    await memory.store("r", turn("we ordered pizza"))
    result = await memory.query(ask("pizza"))
    assert [hit.text for hit in result.memories] == ["User: we ordered pizza\nAgent: ok"]


async def test_forgetting_records_the_ids_and_an_unknown_or_malformed_id_is_refused() -> None:
    memory, _, recorder = service()
    stored = await memory.store("r", turn("secret"))
    assert await memory.forget("req-f", stored.id) == [stored.id]
    [event] = recorder.events(MemoryForgotten)
    assert (event.request_id, event.memory_ids, event.agent_id, event.microdao_id, event.tier) == (
        "req-f", [stored.id], "sofia", "m7", "mid")
    with pytest.raises(NotFound):
        await memory.forget("r", stored.id)
    with pytest.raises(InvalidRequest, match="is not a UUID"):
        await memory.get("not-an-id")


async def test_forgetting_an_agent_records_one_event_per_microdao() -> None:
    memory, _, recorder = service()
    await memory.store("r", turn("one"))
    await memory.store("r", turn("two"))
    await memory.store("r", turn("three", microdao_id="m8"))
    forgotten = await memory.forget_agent("req", "sofia", None)
    assert len(forgotten) == 3
    events = recorder.events(MemoryForgotten)
    assert sorted((e.microdao_id, len(e.memory_ids)) for e in events) == [("m7", 2), ("m8", 1)]


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
    await memory.query(ask("anything"))
    assert events.index("text leg started") < events.index("embed finished")


async def test_a_memory_found_by_both_legs_outranks_one_found_by_words_alone() -> None:
    embedder = FakeEmbedder()
    store = InMemoryMemoryStore(vectorize=embedder.vector)
    memory = MemoryService(store, embedder, FakeRecorder(), FakeClock(), MemoryPolicies())
    both = await memory.store("r", turn("rex vet appointment friday", "noted"))
    await memory.store("r", turn("the vet bill was high", "ok"))
    result = await memory.query(ask("rex vet appointment"))
    assert result.memories[0].id == both.id
