"""Input rules: every bad command is a clear InvalidRequest (400) or a decode error, before any I/O."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from domain.kernel.errors import InvalidRequest
from domain.memory.chunking import ChunkingPolicy
from domain.memory.commands import (
    PostDocument,
    QueryMemory,
    StoreMemory,
    query_terms,
    to_document,
    to_memory,
    to_search,
)
from domain.memory.model import MemoryLimits, Scope

LIMITS = MemoryLimits(max_content_bytes=1000, max_document_bytes=5000, max_limit=20, max_metadata_keys=3)
CHUNKING = ChunkingPolicy()
SOFIA = Scope("microdao:7", "sofia")


def query(**overrides: Any) -> QueryMemory:
    return msgspec.convert({"agent_id": "sofia", "microdao_id": "microdao:7", "query": "pets", **overrides}, QueryMemory)


def store(**overrides: Any) -> StoreMemory:
    raw = {"agent_id": "sofia", "content": {"user_message": "hi", "agent_reply": "hello"}, **overrides}
    return msgspec.convert(raw, StoreMemory)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"query": ""}, "query must not be empty"),
    ({"query": "   \n"}, "query must not be empty"),
    ({"query": "x" * 2001}, "the limit is 2000"),
    ({"limit": 0}, "limit must be between 1 and 20"),
    ({"limit": 21}, "limit must be between 1 and 20"),
    ({"tiers": ["medium"]}, "unknown tier 'medium'; tiers are: short, mid, long"),
    ({"tiers": []}, "tiers, when given, must name at least one"),
    ({"kinds": ["diary"]}, "unknown kind 'diary'"),
    ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "'since' must be earlier"),
    ({"metadata": {"a": 1, "b": 2, "c": 3, "d": 4}}, "metadata has 4 keys; the limit is 3"),
])
def test_a_bad_query_is_refused_with_a_message_naming_the_problem(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message.replace("(", r"\(")):
        to_search(query(**overrides), SOFIA, LIMITS)


def test_a_valid_query_searches_all_tiers_by_default() -> None:
    search = to_search(query(query="  Where is Rex's vet?  "), SOFIA, LIMITS)
    assert search.tiers == {"short", "mid", "long"}
    assert search.query == "Where is Rex's vet?"
    assert search.terms == ["where", "is", "rex", "s", "vet"]


def test_query_words_keep_no_character_that_full_text_syntax_could_read_as_an_operator() -> None:
    assert query_terms("a & b | !c (d) 'e' f:* g<->h snake_case") == [
        "a", "b", "c", "d", "e", "f", "g", "h", "snake", "case"]


def test_oversized_content_is_refused_with_its_size_and_the_limit() -> None:
    with pytest.raises(InvalidRequest, match="content is 1501 bytes; the limit is 1000 bytes"):
        to_memory(store(content={"user_message": "x" * 1500, "agent_reply": "y"}), SOFIA, LIMITS, CHUNKING)


def test_empty_content_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="content is empty"):
        to_memory(store(content={"user_message": " ", "agent_reply": ""}), SOFIA, LIMITS, CHUNKING)


def test_an_unknown_memory_kind_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="unknown kind 'diary'; kinds are: conversation, task, fact"):
        to_memory(store(kind="diary"), SOFIA, LIMITS, CHUNKING)


def test_the_same_turn_hashes_the_same_and_is_searchable_without_speaker_labels() -> None:
    first, second = to_memory(store(), SOFIA, LIMITS, CHUNKING), to_memory(store(), SOFIA, LIMITS, CHUNKING)
    assert first.content_hash == second.content_hash and first.id != second.id
    assert first.chunks == ["hi\n\nhello"]
    assert first.text == "User: hi\nAgent: hello"


def test_a_document_needs_exactly_one_of_text_and_markdown() -> None:
    for body in ({}, {"text": "a", "markdown": "b"}):
        document = msgspec.convert({"microdao_id": "m", "title": "T", **body}, PostDocument)
        with pytest.raises(InvalidRequest, match="exactly one of 'text' and 'markdown'"):
            to_document(document, SOFIA, LIMITS, CHUNKING)


def test_a_document_without_source_uri_is_identified_by_its_content() -> None:
    document = to_document(PostDocument("T", text="Body."), SOFIA, LIMITS, CHUNKING)
    assert document.doc_key == f"sha256:{document.content_hash}"
    assert document.chunks == ["T\nBody."]


def test_an_oversized_document_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="document is 5001 bytes; the limit is 5000 bytes"):
        to_document(PostDocument("T", markdown="x" * 5001), SOFIA, LIMITS, CHUNKING)


@pytest.mark.parametrize("raw", [
    {"agent_id": "a", "content": {"user_message": "x"}, "surprise": 1},
    {"agent_id": "a", "content": {"user_message": "x"}, "metadata": {"nested": {"no": 1}}},
    {"agent_id": "a", "content": {"user_message": "x"}, "occurred_at": "2026-01-01T00:00:00"},
    {"agent_id": "a b", "content": {"user_message": "x"}},
    {"microdao_id": "microdao 7", "content": {"user_message": "x"}},
    {"agent_id": "a"},
])
def test_a_malformed_store_body_does_not_decode(raw: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(raw, StoreMemory)


def test_bodies_need_not_name_their_agent_or_microdao_since_the_key_says_whose_they_are() -> None:
    assert msgspec.convert({"content": {"text": "x"}}, StoreMemory).agent_id is None
    assert msgspec.convert({"query": "x"}, QueryMemory).microdao_id is None
    assert msgspec.convert({"title": "T", "text": "x"}, PostDocument).microdao_id is None
    memory = to_memory(msgspec.convert({"agent_id": "", "microdao_id": "", "content": {"text": "x"}}, StoreMemory),
                       SOFIA, LIMITS, CHUNKING)
    assert memory.scope == SOFIA, "the scope given, never the body's"
