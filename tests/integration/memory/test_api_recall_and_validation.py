"""The memory HTTP API answering queries: full text before embeddings, agent memories and the knowledge base
in one ranking, short-term turns, tenant isolation, and the JSON error body of bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from apps.memory.container import MemoryContainer
from tests.integration.memory.api_calls import Agent, agent, ids, post_document, query, store
from tests.memory_support import (  # noqa: F401 - fixtures
    index_everything,
    memory_runtime_fixture,
    minilm_fixture,
    test_embedder_fixture,
    unique,
)


@pytest.fixture(name="sofia")
def sofia_fixture(api: httpx.Client, database_url: str) -> Agent:
    """An agent of a microDAO of its own, so each test starts from an empty memory."""
    return agent(api, database_url, "sofia", unique("m"))


def test_a_memory_stored_a_moment_ago_is_found_by_full_text_before_it_has_an_embedding(sofia: Agent) -> None:
    memory_id = store(sofia, "The wifi password of the co-working space is zebra-orchid-42")
    assert sofia.get(f"/agent-memory/{memory_id}").json()["indexed_chunks"] == 0
    assert ids(query(sofia, "co-working wifi password")) == [memory_id]


async def test_query_merges_agent_memories_and_the_microdao_knowledge_base_into_one_ranking(
    sofia: Agent, memory_runtime: MemoryContainer,
) -> None:
    personal = store(sofia, "My daughter's birthday party is on March 3rd", "I'll remind you a week before.")
    unrelated = store(sofia, "Please translate 'good morning' to Spanish", "Buenos días.")
    document = post_document(
        sofia, "Treasury policy", source_uri="kb://treasury",
        markdown="# Treasury policy\n\n## Spending\n\nAny payment above 5000 USDC needs two signers of the "
                 "multisig wallet.\n\n## Reports\n\nThe treasurer publishes a monthly report.")
    await index_everything(memory_runtime)
    about_kb = query(sofia, "how many signatures does a large transfer require?")
    assert about_kb["memories"][0]["id"] == document["id"] and about_kb["memories"][0]["tier"] == "long"
    assert about_kb["memories"][0]["source"] == {"type": "document", "document_id": document["id"],
                                                 "title": "Treasury policy", "uri": "kb://treasury", "chunk": 0}
    about_family = query(sofia, "when is my kid's birthday celebration?")
    assert about_family["memories"][0]["id"] == personal and about_family["memories"][0]["tier"] == "mid"
    assert {hit["tier"] for hit in about_family["memories"]} == {"mid", "long"}, "both tiers in one ranking"
    scores = [hit["score"] for hit in about_family["memories"]]
    assert scores == sorted(scores, reverse=True)
    only_kb = query(sofia, "birthday", tiers=["long"])
    assert personal not in ids(only_kb) and unrelated not in ids(only_kb)


def test_short_term_returns_the_latest_turns_of_the_channel_oldest_first(sofia: Agent) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    turns = [store(sofia, f"turn number {i}", channel_id="tg:chat",
                   occurred_at=(start + timedelta(minutes=i)).isoformat()) for i in range(12)]
    store(sofia, "a turn in another channel", channel_id="tg:other")
    result = query(sofia, "turn number", channel_id="tg:chat", tiers=["short"])
    assert [turn["id"] for turn in result["short_term"]] == turns[2:]
    assert result["short_term"][0]["user_message"] == "turn number 2"
    assert result["memories"] == []


async def test_an_agent_of_one_microdao_never_sees_another_microdao_nor_another_agents_memories(
    api: httpx.Client, database_url: str, memory_runtime: MemoryContainer,
) -> None:
    seven, eight = unique("m7"), unique("m8")
    sofia, petro = agent(api, database_url, "sofia", seven), agent(api, database_url, "petro", seven)
    stranger = agent(api, database_url, "sofia", eight)
    mine = store(sofia, "The launch of the marketplace is planned for April", channel_id="c")
    colleague = store(petro, "The launch of the marketplace slipped to May", channel_id="c")
    elsewhere = store(stranger, "The launch of the marketplace is secret in this DAO", channel_id="c")
    kb_seven = post_document(sofia, "Roadmap", text="Marketplace launch: spring.")["id"]
    kb_eight = post_document(stranger, "Roadmap", text="Marketplace launch: never.")["id"]
    await index_everything(memory_runtime)
    for text in ("marketplace launch", "when do we go live with the store?"):  # full text, then vectors alone
        result = query(sofia, text, channel_id="c")
        seen = set(ids(result)) | {turn["id"] for turn in result["short_term"]}
        assert mine in seen and kb_seven in seen
        assert not seen & {colleague, elsewhere, kb_eight}, text
    found = query(petro, "marketplace launch", channel_id="c")
    seen = set(ids(found)) | {turn["id"] for turn in found["short_term"]}
    assert colleague in seen and kb_seven in seen and mine not in seen


@pytest.mark.parametrize(("method", "path", "payload", "status", "needle"), [
    ("post", "/agent-memory/query", {"query": "  "}, 400, "query must not be empty"),
    ("post", "/agent-memory/query", {"query": "x", "limit": 0}, 400, "limit must be between 1 and 50"),
    ("post", "/agent-memory/query", {"query": "x", "limit": 51}, 400, "limit must be between 1 and 50"),
    ("post", "/agent-memory/query", {"query": "x", "tiers": ["medium"]}, 400, "unknown tier 'medium'"),
    ("post", "/agent-memory/query", {"limit": 3}, 400, "`query`"),
    ("post", "/agent-memory/store", {"content": {"user_message": "x" * 40_000}}, 400,
     "content is 40000 bytes; the limit is 32768 bytes"),
    ("post", "/agent-memory/store", {"content": {"user_message": "x"}, "colour": "red"}, 400,
     "unknown field `colour`"),
    ("post", "/agent-memory/store", {"content": {"user_message": "x"}, "metadata": {"a": {"b": 1}}},
     400, "malformed request"),
    ("post", "/knowledge/documents", {"title": "T", "text": "a", "markdown": "b"}, 400,
     "exactly one of 'text' and 'markdown'"),
    ("get", "/agent-memory/not-a-uuid", None, 400, "is not a UUID"),
    ("get", "/agent-memory/6f1c2d0e-7a43-4b8e-9a52-4d1f0e3c9b17", None, 404, "no memory"),
])
def test_bad_input_gets_a_4xx_with_the_json_error_body(
    sofia: Agent, method: str, path: str, payload: Any, status: int, needle: str,
) -> None:
    response = sofia.call(method.upper(), path, json=payload)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert needle in error["message"]
    assert error["type"] in {"invalid_request", "not_found"}
    assert error["request_id"] == response.headers["x-request-id"]


def test_a_body_that_is_not_json_gets_a_400(sofia: Agent) -> None:
    response = sofia.post("/agent-memory/store", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_request"
