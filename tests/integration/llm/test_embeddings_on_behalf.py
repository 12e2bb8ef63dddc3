"""POST /v1/embeddings on behalf of an agent: an operator key with `llm:on_behalf` names the agent a call is for,
the call is that agent's in the ledger (with the acting key's id), and every other way of naming an agent is a
403 as before."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from domain.identity.keys import key_id_of
from domain.ledger.events import EmbeddingsCompleted
from tests.proxy_support import auth, events_of, key_of, operator_key
from tests.support import bearer, issue_key, unique_id

BODY = {"model": "embed", "input": ["one two three"]}


@pytest.fixture(scope="module")
def delegate(database_url: str) -> str:
    return issue_key(database_url, None, scopes="llm:on_behalf")


def embed(proxy: str, key: str, agent: str | None = None, microdao: str | None = None) -> httpx.Response:
    named = {"x-daarion-agent-id": agent, "x-daarion-microdao-id": microdao}
    headers = bearer(key) | {name: value for name, value in named.items() if value is not None}
    return httpx.post(proxy + "/v1/embeddings", headers=headers, json=BODY, timeout=30)


def refusal(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_a_delegating_key_s_call_is_billed_to_the_agent_it_names_and_records_the_key(
    proxy: str, delegate: str, database_url: str, ledger: Any,
) -> None:
    agent = unique_id("agent:delegated")
    issue_key(database_url, agent, "microdao:dlg")
    answered = embed(proxy, delegate, agent, "microdao:dlg")
    assert answered.status_code == 200, answered.text
    [event] = events_of(ledger, answered.headers["x-request-id"])
    assert isinstance(event, EmbeddingsCompleted)
    assert (event.agent_id, event.microdao_id, event.key_id) == (agent, "microdao:dlg", key_id_of(delegate))
    [row] = httpx.get(proxy + "/internal/usage", params={"group_by": "agent"}, headers=auth(agent, "microdao:dlg"),
                      timeout=30).json()["rows"]
    assert (row["key"], row["embedding_calls"], row["embedding_tokens"]) == (agent, 1, 3)


def test_a_delegating_key_must_name_a_registered_enabled_agent_of_the_stated_microdao(
    proxy: str, delegate: str, database_url: str,
) -> None:
    assert refusal(embed(proxy, delegate, unique_id("agent:nobody"), "microdao:dlg")) == (403, "unknown_agent")
    gone = unique_id("agent:gone")
    issue_key(database_url, gone, "microdao:dlg")
    assert refusal(embed(proxy, delegate, gone, "microdao:other")) == (403, "identity_mismatch")
    assert embed(proxy, delegate).status_code == 400  # a delegating key is nobody by itself
    assert embed(proxy, delegate, gone).status_code == 400
    disabled = httpx.delete(f"{proxy}/admin/agents/{gone}", headers=bearer(operator_key()), timeout=30)
    assert disabled.status_code == 200
    deadline = time.monotonic() + 2
    while (response := embed(proxy, delegate, gone, "microdao:dlg")).status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert refusal(response) == (403, "unknown_agent")


def test_naming_an_agent_without_the_scope_is_refused(proxy: str) -> None:
    assert embed(proxy, operator_key(), "agent:sofia", "microdao:7").status_code == 403
    own = embed(proxy, key_of("agent:sofia"), "agent:sofia", "microdao:7")
    assert own.status_code == 200, own.text  # an agent key may still name itself
    assert refusal(embed(proxy, key_of("agent:sofia"), "agent:other", "microdao:7")) == (403, "identity_mismatch")


def test_the_scope_is_granted_to_operator_keys_and_refused_to_agent_keys(proxy: str) -> None:
    def create(**fields: Any) -> httpx.Response:
        return httpx.post(proxy + "/admin/keys", headers=bearer(operator_key()), json=fields, timeout=30)

    refused = create(agent_id="agent:sofia", scopes=["llm", "llm:on_behalf"])
    assert refused.status_code == 400 and "llm:on_behalf" in refused.json()["error"]["message"]
    granted = create(scopes=["llm:on_behalf", "usage:read"])
    assert granted.status_code == 201, granted.text
    assert granted.json()["record"]["scopes"] == ["llm:on_behalf", "usage:read"]
