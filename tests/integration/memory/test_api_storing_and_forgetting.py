"""The memory HTTP API storing and forgetting: durable stores in the ledger, deduplication, idempotency keys,
forgetting a memory or everything an agent remembers, and a document reposted under its source URI."""

from __future__ import annotations

import httpx

from apps.memory.container import MemoryContainer
from domain.ledger.events import MemoryForgotten, MemoryStored
from domain.memory.commands import StoreMemory
from domain.memory.model import MemoryContent, Scope
from tests.integration.memory.api_calls import agent, ids, post_document, query, store
from tests.memory_support import (  # noqa: F401 - fixtures
    index_everything,
    ledger_events,
    memory_runtime_fixture,
    minilm_fixture,
    test_embedder_fixture,
    unique,
)


async def test_a_stored_memory_gets_201_with_its_id_is_durable_and_is_in_the_ledger(
    api: httpx.Client, database_url: str, memory_runtime: MemoryContainer,
) -> None:
    microdao = unique("m")
    sofia = agent(api, database_url, "sofia", microdao)
    # An older client still names its agent and microDAO: the same ones as its key's are welcome.
    response = sofia.post("/agent-memory/store", headers={"x-request-id": f"turn-{microdao}"}, json={
        "agent_id": sofia.agent_id, "microdao_id": microdao, "channel_id": "tg:1", "user_id": "u1", "kind": "task",
        "metadata": {"project": "x", "priority": 2}, "content": {"user_message": "Draft the Q1 budget",
                                                                 "agent_reply": "I will draft it by Monday."}})
    assert response.status_code == 201
    body = response.json()
    assert body == {"id": body["id"], "ids": [body["id"]], "deduplicated": False, "chunks": 1}
    record = sofia.get(f"/agent-memory/{body['id']}").json()
    assert (record["tier"], record["kind"], record["agent_id"], record["microdao_id"], record["channel_id"],
            record["metadata"], record["content"]["agent_reply"]) == (
        "mid", "task", sofia.agent_id, microdao, "tg:1", {"project": "x", "priority": 2}, "I will draft it by Monday.")
    [event] = [e for e in ledger_events(memory_runtime.core.ledger, MemoryStored) if e.microdao_id == microdao]
    assert (event.request_id, event.memory_id, event.kind, event.tier, event.agent_id) == (
        f"turn-{microdao}", body["id"], "task", "mid", sofia.agent_id)


def test_storing_the_same_content_twice_for_the_same_agent_returns_the_existing_id(
    api: httpx.Client, database_url: str,
) -> None:
    microdao = unique("m")
    sofia, petro = agent(api, database_url, "sofia", microdao), agent(api, database_url, "petro", microdao)
    first = store(sofia, "I am allergic to peanuts")
    again = sofia.post("/agent-memory/store", json={"content": {"user_message": "I am allergic to peanuts",
                                                                "agent_reply": "Noted."}})
    assert again.status_code == 201 and again.json()["id"] == first and again.json()["deduplicated"] is True
    other_agent = store(petro, "I am allergic to peanuts")
    assert other_agent != first


def test_an_idempotency_key_returns_the_first_id_and_refuses_other_content_with_409(
    api: httpx.Client, database_url: str,
) -> None:
    sofia = agent(api, database_url, "sofia", unique("m"))
    first = store(sofia, "book the venue", idempotency_key="k-1")
    assert store(sofia, "book the venue", idempotency_key="k-1") == first
    conflict = sofia.post("/agent-memory/store", json={
        "idempotency_key": "k-1", "content": {"user_message": "something else entirely"}})
    assert conflict.status_code == 409
    assert conflict.json()["error"]["type"] == "conflict" and "k-1" in conflict.json()["error"]["message"]


async def test_forget_removes_a_memory_from_every_search_path(
    api: httpx.Client, database_url: str, memory_runtime: MemoryContainer,
) -> None:
    microdao = unique("m")
    sofia = agent(api, database_url, "sofia", microdao)
    doomed = store(sofia, "My bank PIN hint is the name of my first cat, Murzik", channel_id="c")
    kept = store(sofia, "I prefer window seats on flights", channel_id="c")
    await index_everything(memory_runtime)
    assert doomed in ids(query(sofia, "what was my first pet called?"))
    response = sofia.delete(f"/agent-memory/{doomed}", headers={"x-request-id": f"forget-{microdao}"})
    assert response.status_code == 200 and response.json() == {"forgotten": [doomed]}
    for text in ("Murzik bank PIN", "what was my first pet called?"):
        result = query(sofia, text, channel_id="c")
        assert doomed not in ids(result) and doomed not in [t["id"] for t in result["short_term"]]
        assert kept in ids(result) + [t["id"] for t in result["short_term"]]
    assert sofia.get(f"/agent-memory/{doomed}").status_code == 404
    assert sofia.delete(f"/agent-memory/{doomed}").status_code == 404
    leftovers = await memory_runtime.pool.fetchval(
        "SELECT (SELECT count(*) FROM memory_chunks WHERE item_id = $1) + (SELECT count(*) FROM memory_index_jobs "
        "WHERE item_id = $1) + (SELECT count(*) FROM memory_embeddings e WHERE NOT EXISTS "
        "(SELECT 1 FROM memory_chunks c WHERE c.id = e.chunk_id))", doomed)
    assert leftovers == 0
    [event] = [e for e in ledger_events(memory_runtime.core.ledger, MemoryForgotten) if e.microdao_id == microdao]
    assert (event.request_id, event.memory_ids, event.agent_id) == (f"forget-{microdao}", [doomed], sofia.agent_id)


async def test_forgetting_everything_removes_only_the_callers_memories_in_its_microdao(
    api: httpx.Client, database_url: str, memory_runtime: MemoryContainer,
) -> None:
    microdao = unique("m")
    sofia, petro = agent(api, database_url, "sofia", microdao), agent(api, database_url, "petro", microdao)
    gone = [store(sofia, f"sofia fact {i}") for i in range(3)]
    kept = store(petro, "petro fact 1")
    document = post_document(sofia, "T", text="sofia fact in the knowledge base")["id"]
    # Rows of the same agent id in another microDAO (written before keys existed) are not this key's to forget.
    elsewhere = Scope(unique("m"), sofia.agent_id)
    other_microdao = await memory_runtime.service.store(elsewhere, "old", _fact("sofia fact elsewhere"))
    response = sofia.delete("/agent-memory")
    assert sorted(response.json()["forgotten"]) == sorted(gone)
    assert ids(query(sofia, "sofia fact")) == [document]
    assert ids(query(petro, "petro fact", tiers=["mid"])) == [kept]
    assert await memory_runtime.service.get(elsewhere, other_microdao.id)
    named = sofia.delete("/agent-memory", params={"agent_id": sofia.agent_id, "microdao_id": microdao})
    assert named.status_code == 200 and named.json() == {"forgotten": []}, "an old client naming itself"


async def test_a_document_reposted_with_the_same_source_uri_replaces_its_chunks(
    api: httpx.Client, database_url: str, memory_runtime: MemoryContainer,
) -> None:
    microdao = unique("m")
    author, reader = agent(api, database_url, "author", microdao), agent(api, database_url, "any", microdao)
    original = {"title": "Onboarding", "source_uri": "kb://onboarding",
                "markdown": "# Onboarding\n\n## Mentors\n\nEvery newcomer gets a mentor called a pathfinder."}
    created = author.post("/knowledge/documents", json=original)
    assert created.status_code == 201 and created.json()["created"] is True
    document_id = created.json()["id"]
    await index_everything(memory_runtime)
    assert document_id in ids(query(reader, "pathfinder"))
    unchanged = author.post("/knowledge/documents", json=original)
    assert unchanged.status_code == 200 and unchanged.json()["unchanged"] is True
    changed = reader.post("/knowledge/documents", json={
        **original, "markdown": "# Onboarding\n\n## Buddies\n\nEvery newcomer is paired with a buddy for a week."})
    assert changed.status_code == 200 and changed.json() == {"id": document_id, "chunks": 1, "created": False,
                                                              "replaced": True, "unchanged": False}
    await index_everything(memory_runtime)
    assert ids(query(reader, "pathfinder mentor")) == [document_id]
    assert query(reader, "pathfinder mentor")["memories"][0]["text"].startswith("Onboarding › Buddies")
    record = author.get(f"/knowledge/documents/{document_id}").json()
    assert (record["chunks"], record["indexed_chunks"], record["title"]) == (1, 1, "Onboarding")
    assert "buddy" in record["text"] and "pathfinder" not in record["text"]
    assert record["agent_id"] == reader.agent_id, "a document's agent is the one that last wrote it"
    assert author.delete(f"/knowledge/documents/{document_id}").json() == {"forgotten": [document_id]}
    assert author.get(f"/knowledge/documents/{document_id}").status_code == 404
    assert ids(query(reader, "buddy newcomer")) == []


def _fact(text: str) -> StoreMemory:
    return StoreMemory(MemoryContent(text=text), kind="fact")
