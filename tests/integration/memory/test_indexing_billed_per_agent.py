"""The memory service embedding through the LLM proxy with a delegating key (`on_behalf: true`): the indexing
worker embeds each agent's memories on that agent's behalf, so the usage report shows every agent's own
indexing spend, and the memory service's key none."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from apps.memory.app import create_app
from domain.identity.keys import key_id_of
from tests.integration.memory.test_embedding_through_proxy import embeddings_of
from tests.memory_support import memory_settings
from tests.proxy_support import operator_key
from tests.support import bearer, issue_key, serve_in_thread, wait_until

KEY_ENV = "TEST_MEMORY_DELEGATE_KEY"


@pytest.fixture(scope="module")
def delegate(database_url: str) -> str:
    return issue_key(database_url, None, scopes="llm:on_behalf")


@pytest.fixture(scope="module")
def memory(database_url: str, proxy: str, delegate: str) -> Iterator[str]:
    os.environ[KEY_ENV] = delegate
    settings = memory_settings(
        embedder={"provider": "proxy", "model": "embed", "dimensions": 384, "base_url": proxy + "/v1",
                  "api_key_env": KEY_ENV, "send_dimensions": True, "on_behalf": True},
        indexing={"enabled": True, "workers": 1, "batch_items": 16})
    with serve_in_thread(create_app(settings)) as base:
        yield base + "/internal"


def usage_of(proxy: str, agent_id: str) -> dict[str, Any]:
    [row] = httpx.get(proxy + "/internal/usage", params={"group_by": "agent", "agent_id": agent_id},
                      headers=bearer(operator_key()), timeout=30).json()["rows"]
    return row


def test_each_agent_s_memories_are_indexed_on_its_behalf_and_reported_as_its_own_spend(
    memory: str, proxy: str, database_url: str, ledger: Any, delegate: str,
) -> None:
    agents = {f"agent:indexed-{name}-{uuid.uuid4().hex[:6]}": microdao
              for name, microdao in [("a", "microdao:idx-a"), ("b", "microdao:idx-b")]}
    texts = {"Olena prefers green tea", "The standup moved to nine", "Taras owns the billing service"}
    for agent_id, microdao in agents.items():
        key = bearer(issue_key(database_url, agent_id, microdao, "memory"))  # no llm: it cannot pay itself
        for text in texts:
            stored = httpx.post(memory + "/agent-memory/store", headers=key, timeout=30,
                                json={"content": {"text": f"{text} ({agent_id})"}, "kind": "fact"})
            assert stored.status_code == 201, stored.text
    wait_until(lambda: all(sum(e.inputs for e in embeddings_of(ledger, a)) >= len(texts) for a in agents))
    for agent_id, microdao in agents.items():
        events = embeddings_of(ledger, agent_id)
        assert {(e.microdao_id, e.key_id) for e in events} == {(microdao, key_id_of(delegate))}
        row = usage_of(proxy, agent_id)
        assert (row["embedding_calls"], row["embedding_tokens"]) == (len(events), sum(e.prompt_tokens for e in events))
        assert row["embedding_tokens"] > 0
    billed = httpx.get(proxy + "/internal/usage", params={"group_by": "agent"}, headers=bearer(operator_key()),
                       timeout=30).json()["rows"]
    assert all(row["key"] != key_id_of(delegate) for row in billed)


def test_a_query_by_a_key_that_may_not_call_the_proxy_is_billed_to_its_agent_through_the_delegate(
    memory: str, database_url: str, ledger: Any, delegate: str,
) -> None:
    agent_id = f"agent:reader-{uuid.uuid4().hex[:8]}"
    key = bearer(issue_key(database_url, agent_id, "microdao:idx-r", "memory:read"))
    found = httpx.post(memory + "/agent-memory/query", headers=key, timeout=30, json={"query": "tea", "limit": 5})
    assert found.status_code == 200, found.text
    [query] = embeddings_of(ledger, agent_id)
    assert (query.microdao_id, query.inputs, query.key_id) == ("microdao:idx-r", 1, key_id_of(delegate))
