"""The memory HTTP API over real HTTP, on the embedded PostgreSQL with the real MiniLM model.

The app under test runs without an in-process worker so each test decides when indexing happens
(`index_everything` works the same queue from the test's own runtime).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from apps.memory.app import create_app
from apps.memory.runtime import MemoryRuntime
from domain.ledger.events import MemoryForgotten, MemoryStored
from tests.memory_support import (  # noqa: F401 - fixtures
    LabelledEmbedder,
    index_everything,
    ledger_events,
    memory_runtime_fixture,
    memory_settings,
    minilm_fixture,
    test_embedder_fixture,
    unique,
)
from tests.support import serve_in_thread


@pytest.fixture(scope="module")
def api(database_url: str, test_embedder: LabelledEmbedder) -> Iterator[httpx.Client]:
    with serve_in_thread(create_app(memory_settings(), embedder=test_embedder)) as base, \
            httpx.Client(base_url=base + "/internal", timeout=30) as client:
        yield client


def store(api: httpx.Client, agent: str, microdao: str, user: str, reply: str = "Noted.", **extra: Any) -> str:
    response = api.post("/agent-memory/store", json={
        "agent_id": agent, "microdao_id": microdao, "content": {"user_message": user, "agent_reply": reply}, **extra})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def query(api: httpx.Client, agent: str, microdao: str, text: str, **extra: Any) -> dict[str, Any]:
    response = api.post("/agent-memory/query", json={"agent_id": agent, "microdao_id": microdao, "query": text,
                                                     "limit": 10, **extra})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def ids(result: dict[str, Any]) -> list[str]:
    return [hit["id"] for hit in result["memories"]]


async def test_a_stored_memory_gets_201_with_its_id_is_durable_and_is_in_the_ledger(
    api: httpx.Client, memory_runtime: MemoryRuntime,
) -> None:
    microdao = unique("m")
    response = api.post("/agent-memory/store", headers={"x-request-id": f"turn-{microdao}"}, json={
        "agent_id": "sofia", "microdao_id": microdao, "channel_id": "tg:1", "user_id": "u1", "kind": "task",
        "metadata": {"project": "x", "priority": 2}, "content": {"user_message": "Draft the Q1 budget",
                                                                 "agent_reply": "I will draft it by Monday."}})
    assert response.status_code == 201
    body = response.json()
    assert body == {"id": body["id"], "ids": [body["id"]], "deduplicated": False, "chunks": 1}
    record = api.get(f"/agent-memory/{body['id']}").json()
    assert (record["tier"], record["kind"], record["agent_id"], record["microdao_id"], record["channel_id"],
            record["metadata"], record["content"]["agent_reply"]) == (
        "mid", "task", "sofia", microdao, "tg:1", {"project": "x", "priority": 2}, "I will draft it by Monday.")
    [event] = [e for e in ledger_events(memory_runtime.core.ledger, MemoryStored) if e.microdao_id == microdao]
    assert (event.request_id, event.memory_id, event.kind, event.tier) == (f"turn-{microdao}", body["id"], "task", "mid")


def test_storing_the_same_content_twice_for_the_same_agent_returns_the_existing_id(api: httpx.Client) -> None:
    microdao = unique("m")
    first = store(api, "sofia", microdao, "I am allergic to peanuts")
    again = api.post("/agent-memory/store", json={"agent_id": "sofia", "microdao_id": microdao,
                                                  "content": {"user_message": "I am allergic to peanuts",
                                                              "agent_reply": "Noted."}})
    assert again.status_code == 201 and again.json()["id"] == first and again.json()["deduplicated"] is True
    other_agent = store(api, "petro", microdao, "I am allergic to peanuts")
    assert other_agent != first


def test_an_idempotency_key_returns_the_first_id_and_refuses_other_content_with_409(api: httpx.Client) -> None:
    microdao = unique("m")
    first = store(api, "sofia", microdao, "book the venue", idempotency_key="k-1")
    assert store(api, "sofia", microdao, "book the venue", idempotency_key="k-1") == first
    conflict = api.post("/agent-memory/store", json={
        "agent_id": "sofia", "microdao_id": microdao, "idempotency_key": "k-1",
        "content": {"user_message": "something else entirely"}})
    assert conflict.status_code == 409
    assert conflict.json()["error"]["type"] == "conflict" and "k-1" in conflict.json()["error"]["message"]


def test_a_memory_stored_a_moment_ago_is_found_by_full_text_before_it_has_an_embedding(api: httpx.Client) -> None:
    microdao = unique("m")
    memory_id = store(api, "sofia", microdao, "The wifi password of the co-working space is zebra-orchid-42")
    assert api.get(f"/agent-memory/{memory_id}").json()["indexed_chunks"] == 0
    assert ids(query(api, "sofia", microdao, "co-working wifi password")) == [memory_id]


async def test_query_merges_agent_memories_and_the_microdao_knowledge_base_into_one_ranking(
    api: httpx.Client, memory_runtime: MemoryRuntime,
) -> None:
    microdao = unique("m")
    personal = store(api, "sofia", microdao, "My daughter's birthday party is on March 3rd",
                     "I'll remind you a week before.")
    unrelated = store(api, "sofia", microdao, "Please translate 'good morning' to Spanish", "Buenos días.")
    document = api.post("/knowledge/documents", json={
        "microdao_id": microdao, "title": "Treasury policy", "source_uri": "kb://treasury",
        "markdown": "# Treasury policy\n\n## Spending\n\nAny payment above 5000 USDC needs two signers of the "
                    "multisig wallet.\n\n## Reports\n\nThe treasurer publishes a monthly report."}).json()
    await index_everything(memory_runtime)
    about_kb = query(api, "sofia", microdao, "how many signatures does a large transfer require?")
    assert about_kb["memories"][0]["id"] == document["id"] and about_kb["memories"][0]["tier"] == "long"
    assert about_kb["memories"][0]["source"] == {"type": "document", "document_id": document["id"],
                                                 "title": "Treasury policy", "uri": "kb://treasury", "chunk": 0}
    about_family = query(api, "sofia", microdao, "when is my kid's birthday celebration?")
    assert about_family["memories"][0]["id"] == personal and about_family["memories"][0]["tier"] == "mid"
    assert {hit["tier"] for hit in about_family["memories"]} == {"mid", "long"}, "both tiers in one ranking"
    scores = [hit["score"] for hit in about_family["memories"]]
    assert scores == sorted(scores, reverse=True)
    only_kb = query(api, "sofia", microdao, "birthday", tiers=["long"])
    assert personal not in ids(only_kb) and unrelated not in ids(only_kb)


def test_short_term_returns_the_latest_turns_of_the_channel_oldest_first(api: httpx.Client) -> None:
    microdao = unique("m")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    turns = [store(api, "sofia", microdao, f"turn number {i}", channel_id="tg:chat",
                   occurred_at=(start + timedelta(minutes=i)).isoformat()) for i in range(12)]
    store(api, "sofia", microdao, "a turn in another channel", channel_id="tg:other")
    result = query(api, "sofia", microdao, "turn number", channel_id="tg:chat", tiers=["short"])
    assert [turn["id"] for turn in result["short_term"]] == turns[2:]
    assert result["short_term"][0]["user_message"] == "turn number 2"
    assert result["memories"] == []


async def test_an_agent_of_one_microdao_never_sees_another_microdao_nor_another_agents_memories(
    api: httpx.Client, memory_runtime: MemoryRuntime,
) -> None:
    seven, eight = unique("m7"), unique("m8")
    mine = store(api, "sofia", seven, "The launch of the marketplace is planned for April", channel_id="c")
    colleague = store(api, "petro", seven, "The launch of the marketplace slipped to May", channel_id="c")
    elsewhere = store(api, "sofia", eight, "The launch of the marketplace is secret in this DAO", channel_id="c")
    kb_seven = api.post("/knowledge/documents", json={"microdao_id": seven, "title": "Roadmap",
                                                      "text": "Marketplace launch: spring."}).json()["id"]
    kb_eight = api.post("/knowledge/documents", json={"microdao_id": eight, "title": "Roadmap",
                                                      "text": "Marketplace launch: never."}).json()["id"]
    await index_everything(memory_runtime)
    for text in ("marketplace launch", "when do we go live with the store?"):  # full text, then vectors alone
        result = query(api, "sofia", seven, text, channel_id="c")
        seen = set(ids(result)) | {turn["id"] for turn in result["short_term"]}
        assert mine in seen and kb_seven in seen
        assert not seen & {colleague, elsewhere, kb_eight}, text
    petro = query(api, "petro", seven, "marketplace launch", channel_id="c")
    seen = set(ids(petro)) | {turn["id"] for turn in petro["short_term"]}
    assert colleague in seen and kb_seven in seen and mine not in seen


async def test_forget_removes_a_memory_from_every_search_path(api: httpx.Client, memory_runtime: MemoryRuntime) -> None:
    microdao = unique("m")
    doomed = store(api, "sofia", microdao, "My bank PIN hint is the name of my first cat, Murzik", channel_id="c")
    kept = store(api, "sofia", microdao, "I prefer window seats on flights", channel_id="c")
    await index_everything(memory_runtime)
    assert doomed in ids(query(api, "sofia", microdao, "what was my first pet called?"))
    response = api.delete(f"/agent-memory/{doomed}", headers={"x-request-id": f"forget-{microdao}"})
    assert response.status_code == 200 and response.json() == {"forgotten": [doomed]}
    for text in ("Murzik bank PIN", "what was my first pet called?"):
        result = query(api, "sofia", microdao, text, channel_id="c")
        assert doomed not in ids(result) and doomed not in [t["id"] for t in result["short_term"]]
        assert kept in ids(result) + [t["id"] for t in result["short_term"]]
    assert api.get(f"/agent-memory/{doomed}").status_code == 404
    assert api.delete(f"/agent-memory/{doomed}").status_code == 404
    leftovers = await memory_runtime.pool.fetchval(
        "SELECT (SELECT count(*) FROM memory_chunks WHERE item_id = $1) + (SELECT count(*) FROM memory_index_jobs "
        "WHERE item_id = $1) + (SELECT count(*) FROM memory_embeddings e WHERE NOT EXISTS "
        "(SELECT 1 FROM memory_chunks c WHERE c.id = e.chunk_id))", doomed)
    assert leftovers == 0
    [event] = [e for e in ledger_events(memory_runtime.core.ledger, MemoryForgotten) if e.microdao_id == microdao]
    assert (event.request_id, event.memory_ids, event.agent_id) == (f"forget-{microdao}", [doomed], "sofia")


def test_forgetting_an_agent_removes_only_that_agents_memories(api: httpx.Client) -> None:
    microdao = unique("m")
    gone = [store(api, "sofia", microdao, f"sofia fact {i}") for i in range(3)]
    kept = store(api, "petro", microdao, "petro fact 1")
    document = api.post("/knowledge/documents", json={"microdao_id": microdao, "title": "T", "agent_id": "sofia",
                                                      "text": "sofia fact in the knowledge base"}).json()["id"]
    response = api.delete("/agent-memory", params={"agent_id": "sofia", "microdao_id": microdao})
    assert sorted(response.json()["forgotten"]) == sorted(gone)
    assert ids(query(api, "sofia", microdao, "sofia fact")) == [document]
    assert ids(query(api, "petro", microdao, "petro fact", tiers=["mid"])) == [kept]


async def test_a_document_reposted_with_the_same_source_uri_replaces_its_chunks(
    api: httpx.Client, memory_runtime: MemoryRuntime,
) -> None:
    microdao = unique("m")
    original = {"microdao_id": microdao, "title": "Onboarding", "source_uri": "kb://onboarding",
                "markdown": "# Onboarding\n\n## Mentors\n\nEvery newcomer gets a mentor called a pathfinder."}
    created = api.post("/knowledge/documents", json=original)
    assert created.status_code == 201 and created.json()["created"] is True
    document_id = created.json()["id"]
    await index_everything(memory_runtime)
    assert document_id in ids(query(api, "any", microdao, "pathfinder"))
    unchanged = api.post("/knowledge/documents", json=original)
    assert unchanged.status_code == 200 and unchanged.json()["unchanged"] is True
    changed = api.post("/knowledge/documents", json={
        **original, "markdown": "# Onboarding\n\n## Buddies\n\nEvery newcomer is paired with a buddy for a week."})
    assert changed.status_code == 200 and changed.json() == {"id": document_id, "chunks": 1, "created": False,
                                                              "replaced": True, "unchanged": False}
    await index_everything(memory_runtime)
    assert ids(query(api, "any", microdao, "pathfinder mentor")) == [document_id]
    assert query(api, "any", microdao, "pathfinder mentor")["memories"][0]["text"].startswith("Onboarding › Buddies")
    record = api.get(f"/knowledge/documents/{document_id}").json()
    assert (record["chunks"], record["indexed_chunks"], record["title"]) == (1, 1, "Onboarding")
    assert "buddy" in record["text"] and "pathfinder" not in record["text"]
    assert api.delete(f"/knowledge/documents/{document_id}").json() == {"forgotten": [document_id]}
    assert api.get(f"/knowledge/documents/{document_id}").status_code == 404
    assert ids(query(api, "any", microdao, "buddy newcomer")) == []


@pytest.mark.parametrize(("method", "path", "payload", "status", "needle"), [
    ("post", "/agent-memory/query", {"agent_id": "a", "microdao_id": "m", "query": "  "}, 400, "query must not be empty"),
    ("post", "/agent-memory/query", {"agent_id": "a", "microdao_id": "m", "query": "x", "limit": 0}, 400,
     "limit must be between 1 and 50"),
    ("post", "/agent-memory/query", {"agent_id": "a", "microdao_id": "m", "query": "x", "limit": 51}, 400,
     "limit must be between 1 and 50"),
    ("post", "/agent-memory/query", {"agent_id": "a", "microdao_id": "m", "query": "x", "tiers": ["medium"]}, 400,
     "unknown tier 'medium'"),
    ("post", "/agent-memory/query", {"agent_id": "a", "query": "x"}, 400, "microdao_id"),
    ("post", "/agent-memory/store", {"agent_id": "a", "content": {"user_message": "x" * 40_000}}, 400,
     "content is 40000 bytes; the limit is 32768 bytes"),
    ("post", "/agent-memory/store", {"agent_id": "a", "content": {"user_message": "x"}, "colour": "red"}, 400,
     "unknown field `colour`"),
    ("post", "/agent-memory/store", {"agent_id": "a", "content": {"user_message": "x"}, "metadata": {"a": {"b": 1}}},
     400, "malformed request"),
    ("post", "/knowledge/documents", {"microdao_id": "m", "title": "T", "text": "a", "markdown": "b"}, 400,
     "exactly one of 'text' and 'markdown'"),
    ("get", "/agent-memory/not-a-uuid", None, 400, "is not a UUID"),
    ("get", "/agent-memory/6f1c2d0e-7a43-4b8e-9a52-4d1f0e3c9b17", None, 404, "no memory"),
    ("delete", "/agent-memory", None, 400, "agent_id"),
])
def test_bad_input_gets_a_4xx_with_the_json_error_body(
    api: httpx.Client, method: str, path: str, payload: Any, status: int, needle: str,
) -> None:
    response = api.request(method.upper(), path, json=payload)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert needle in error["message"]
    assert error["type"] in {"invalid_request", "not_found"}
    assert error["request_id"] == response.headers["x-request-id"]


def test_a_body_that_is_not_json_gets_a_400(api: httpx.Client) -> None:
    response = api.post("/agent-memory/store", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_request"
