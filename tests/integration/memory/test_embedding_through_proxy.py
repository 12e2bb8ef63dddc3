"""The memory service embedding through the LLM proxy: every embedding is an EmbeddingsCompleted in the ledger,
a query's billed to the agent that asked, the indexing worker's to the memory service's own key."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from apps.memory.app import create_app
from domain.ledger.events import EmbeddingsCompleted
from tests.memory_support import memory_settings
from tests.proxy_support import key_of
from tests.support import bearer, issue_key, serve_in_thread, wait_until

INDEXER = ("agent:memory-indexer", "microdao:memory")


def embeddings_of(ledger: Any, agent_id: str) -> list[EmbeddingsCompleted]:
    found, position = [], 1
    while batch := ledger.recorder.select_notifications(start=position, limit=1000):
        for notification in batch:
            event = ledger.mapper.to_domain_event(notification)
            if isinstance(event, EmbeddingsCompleted) and event.agent_id == agent_id:
                found.append(event)
        position = batch[-1].id + 1
    return found


@pytest.fixture(scope="module")
def memory(database_url: str, proxy: str) -> Iterator[str]:
    os.environ["TEST_MEMORY_PROXY_KEY"] = key_of(*INDEXER)
    settings = memory_settings(
        embedder={"provider": "proxy", "model": "embed", "dimensions": 384, "base_url": proxy + "/v1",
                  "api_key_env": "TEST_MEMORY_PROXY_KEY", "send_dimensions": True},
        indexing={"enabled": True, "workers": 1})
    with serve_in_thread(create_app(settings)) as base:
        yield base + "/internal"


def test_indexing_is_billed_to_the_service_key_and_a_query_to_the_agent_that_asked(
    memory: str, database_url: str, ledger: Any,
) -> None:
    agent_id = f"agent:recaller-{uuid.uuid4().hex[:8]}"
    key = bearer(issue_key(database_url, agent_id, "microdao:recall"))
    indexed_before = len(embeddings_of(ledger, INDEXER[0]))
    stored = httpx.post(memory + "/agent-memory/store", headers=key, timeout=30,
                        json={"content": {"text": "Olena prefers green tea"}, "kind": "fact"})
    assert stored.status_code == 201, stored.text
    wait_until(lambda: len(embeddings_of(ledger, INDEXER[0])) > indexed_before)
    indexing = embeddings_of(ledger, INDEXER[0])[-1]
    assert (indexing.logical_model, indexing.provider, indexing.dimensions) == ("embed", "openai", 384)
    found = httpx.post(memory + "/agent-memory/query", headers=key, timeout=30,
                       json={"query": "what does Olena drink?", "limit": 5})
    assert found.status_code == 200, found.text
    [query] = embeddings_of(ledger, agent_id)
    assert (query.microdao_id, query.inputs, query.prompt_tokens) == ("microdao:recall", 1, 4)


def test_a_caller_whose_key_may_not_call_the_proxy_has_its_query_embedded_on_the_service_key(
    memory: str, database_url: str, ledger: Any,
) -> None:
    agent_id = f"agent:reader-{uuid.uuid4().hex[:8]}"
    key = bearer(issue_key(database_url, agent_id, "microdao:recall", "memory:read"))
    before = len(embeddings_of(ledger, INDEXER[0]))
    found = httpx.post(memory + "/agent-memory/query", headers=key, timeout=30, json={"query": "tea", "limit": 5})
    assert found.status_code == 200, found.text
    assert embeddings_of(ledger, agent_id) == [] and len(embeddings_of(ledger, INDEXER[0])) > before
