"""MemoryStore: InMemoryMemoryStore and PgMemoryStore keep, dedupe, list and forget memories and documents alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.kernel.errors import Conflict
from domain.memory.model import Scope
from tests.contracts.memory_world import (
    MemoryWorld,
    world_fixture,  # noqa: F401 - the `world` fixture
)
from tests.contracts.support import unique

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


async def test_a_new_memory_is_stored_with_its_chunks_and_read_back_whole(world: MemoryWorld) -> None:
    memory = world.memory(user_message="my dog is Rex", agent_reply="noted", channel_id="chan-1",
                          user_id="member:olena", metadata={"topic": "pets"}, occurred_at=T0)
    result = await world.store.add_memory(memory, world.model)
    assert (result.id, result.created, result.chunks) == (memory.id, True, len(memory.chunks))
    record = await world.store.get(world.scope, memory.id, world.model)
    assert record is not None
    assert (record.tier, record.kind, record.microdao_id, record.agent_id, record.text) == (
        "mid", "conversation", world.microdao, world.agent, "User: my dog is Rex\nAgent: noted")
    assert (record.content, record.channel_id, record.user_id, record.metadata) == (
        memory.content, "chan-1", "member:olena", {"topic": "pets"})
    assert (record.occurred_at, record.chunks, record.indexed_chunks) == (T0, 1, 0)


async def test_an_unknown_id_reads_as_none(world: MemoryWorld) -> None:
    assert await world.store.get(world.scope, world.memory("x").id, world.model) is None


async def test_the_same_content_of_the_same_agent_is_stored_once(world: MemoryWorld) -> None:
    first = await world.store.add_memory(world.memory("Olena prefers green tea"), world.model)
    again = await world.store.add_memory(world.memory("Olena prefers green tea"), world.model)
    assert (again.id, again.created, again.chunks) == (first.id, False, first.chunks)


async def test_the_same_content_of_another_agent_or_microdao_is_a_memory_of_its_own(world: MemoryWorld) -> None:
    mine = await world.add("Olena prefers green tea")
    theirs = await world.store.add_memory(world.memory("Olena prefers green tea", agent=unique("agent")), world.model)
    elsewhere = await world.store.add_memory(world.memory("Olena prefers green tea", microdao=unique("m")), world.model)
    assert theirs.created and elsewhere.created
    assert len({mine, theirs.id, elsewhere.id}) == 3


async def test_a_replayed_idempotency_key_returns_the_memory_it_first_stored(world: MemoryWorld) -> None:
    first = await world.store.add_memory(world.memory("budget due Friday", idempotency_key="k-1"), world.model)
    replay = await world.store.add_memory(world.memory("budget due Friday", idempotency_key="k-1"), world.model)
    assert first.created and (replay.id, replay.created) == (first.id, False)


async def test_a_key_reused_for_other_content_is_a_conflict(world: MemoryWorld) -> None:
    await world.store.add_memory(world.memory("budget due Friday", idempotency_key="k-1"), world.model)
    with pytest.raises(Conflict):
        await world.store.add_memory(world.memory("budget due Monday", idempotency_key="k-1"), world.model)


async def test_a_key_reused_for_content_another_memory_holds_is_still_a_conflict(world: MemoryWorld) -> None:
    await world.add("budget due Monday")
    await world.store.add_memory(world.memory("budget due Friday", idempotency_key="k-1"), world.model)
    with pytest.raises(Conflict):
        await world.store.add_memory(world.memory("budget due Monday", idempotency_key="k-1"), world.model)


async def test_known_content_under_a_new_key_returns_the_memory_that_holds_it(world: MemoryWorld) -> None:
    first = await world.add("budget due Friday")
    again = await world.store.add_memory(world.memory("budget due Friday", idempotency_key="k-9"), world.model)
    assert (again.id, again.created) == (first, False)


async def test_recent_turns_are_the_channel_s_latest_oldest_first(world: MemoryWorld) -> None:
    for minute in (3, 0, 2, 1):  # stored out of order: the order is by occurred_at
        await world.add(user_message=f"turn {minute}", agent_reply="ok", channel_id="chan",
                        user_id="member:olena", occurred_at=T0 + timedelta(minutes=minute))
    await world.add(user_message="other channel", agent_reply="ok", channel_id="elsewhere", occurred_at=T0)
    await world.add(user_message="other agent", agent_reply="ok", channel_id="chan", agent=unique("agent"))
    await world.add("a fact, not a turn", channel_id="chan", occurred_at=T0 + timedelta(minutes=9))
    turns = await world.store.recent_turns(world.memory("x").scope, "chan", 3)
    assert [(t.user_message, t.agent_reply, t.user_id) for t in turns] == [
        ("turn 1", "ok", "member:olena"), ("turn 2", "ok", "member:olena"), ("turn 3", "ok", "member:olena")]
    assert [t.occurred_at for t in turns] == [T0 + timedelta(minutes=m) for m in (1, 2, 3)]


async def test_forgetting_removes_a_memory_once_and_only_from_its_own_tier(world: MemoryWorld) -> None:
    item_id = await world.add("forget me")
    assert await world.store.forget(world.scope, item_id, "long") is None
    forgotten = await world.store.forget(world.scope, item_id, "mid")
    assert forgotten is not None
    assert (forgotten.id, forgotten.tier, forgotten.microdao_id, forgotten.agent_id) == (
        item_id, "mid", world.microdao, world.agent)
    assert await world.store.forget(world.scope, item_id, "mid") is None
    assert await world.store.get(world.scope, item_id, world.model) is None


async def test_forgetting_an_agent_removes_its_memories_in_its_microdao_only(world: MemoryWorld) -> None:
    here = {await world.add("one"), await world.add("two")}
    elsewhere, colleague = Scope(unique("m"), world.agent), Scope(world.microdao, unique("agent"))
    there = await world.store.add_memory(world.memory("three", microdao=elsewhere.microdao_id), world.model)
    kept = await world.store.add_memory(world.memory("one", agent=colleague.agent_id), world.model)
    document = await world.store.put_document(world.document("Guide", "the agent wrote this"), world.model)
    forgotten = await world.store.forget_agent(world.scope)
    assert {f.id for f in forgotten} == here and {f.tier for f in forgotten} == {"mid"}
    assert await world.store.forget_agent(world.scope) == []
    assert await world.store.get(elsewhere, there.id, world.model) is not None, "another microDAO's"
    assert await world.store.get(colleague, kept.id, world.model) is not None, "another agent's"
    assert await world.store.get(world.scope, document.id, world.model) is not None, "documents are the microDAO's"


async def test_another_agents_memory_reads_and_forgets_as_missing_while_documents_are_shared(
    world: MemoryWorld,
) -> None:
    colleague = Scope(world.microdao, unique("agent"))
    stranger = Scope(unique("m"), world.agent)
    mine = await world.add("my own secret")
    document = (await world.store.put_document(world.document("Guide", "for everyone"), world.model)).id
    for other in (colleague, stranger):
        assert await world.store.get(other, mine, world.model) is None
        assert await world.store.forget(other, mine, "mid") is None
        assert await world.store.forget_agent(other) == []
    assert await world.store.get(stranger, document, world.model) is None
    assert await world.store.forget(stranger, document, "long") is None
    record = await world.store.get(colleague, document, world.model)
    assert record is not None and record.agent_id == world.agent, "a colleague reads the microDAO's documents"
    assert await world.store.get(world.scope, mine, world.model) is not None, "still there"
    forgotten = await world.store.forget(colleague, document, "long")
    assert forgotten is not None and forgotten.id == document, "and any agent of the microDAO may delete one"


async def test_a_document_is_created_kept_when_unchanged_and_replaced_in_place(world: MemoryWorld) -> None:
    first = await world.store.put_document(world.document("Policy", "Meetings on Monday.", "kb://p"), world.model)
    assert (first.created, first.replaced, first.unchanged, first.chunks) == (True, False, False, 1)
    same = await world.store.put_document(world.document("Policy", "Meetings on Monday.", "kb://p"), world.model)
    assert (same.id, same.created, same.replaced, same.unchanged) == (first.id, False, False, True)
    new = world.document("Policy", "Meetings on Friday.\n\n" + "More rules. " * 150, "kb://p")
    replaced = await world.store.put_document(new, world.model)
    assert (replaced.id, replaced.created, replaced.replaced, replaced.unchanged) == (first.id, False, True, False)
    assert replaced.chunks == len(new.chunks) > 1
    record = await world.store.get(world.scope, first.id, world.model)
    assert record is not None
    assert (record.tier, record.kind, record.title, record.source_uri, record.text, record.chunks) == (
        "long", "document", "Policy", "kb://p", new.text, len(new.chunks))


async def test_a_document_s_revision_changes_when_it_is_written_and_only_then(world: MemoryWorld) -> None:
    first = await world.store.put_document(world.document("Rota", "Alice on Monday.", "kb://rota"), world.model)
    again = await world.store.put_document(world.document("Rota", "Alice on Monday.", "kb://rota"), world.model)
    changed = await world.store.put_document(world.document("Rota", "Bob on Monday.", "kb://rota"), world.model)
    back = await world.store.put_document(world.document("Rota", "Alice on Monday.", "kb://rota"), world.model)
    assert first.revision == again.revision
    assert len({first.revision, changed.revision, back.revision}) == 3


async def test_a_document_without_a_source_uri_is_identified_by_its_content(world: MemoryWorld) -> None:
    first = await world.store.put_document(world.document("Notes", "Standup at ten."), world.model)
    again = await world.store.put_document(world.document("Notes", "Standup at ten."), world.model)
    other = await world.store.put_document(world.document("Notes", "Standup at eleven."), world.model)
    assert (again.id, again.unchanged) == (first.id, True)
    assert other.created and other.id != first.id
