"""Whose memory a request touches: the caller's key says who calls (401 without one), its scopes what it may
do, a body or query naming another agent or microDAO is refused, and another tenant's ids read as missing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from apps.memory.container import MemoryContainer
from tests.integration.memory.api_calls import Agent, agent, ids, post_document, query, store
from tests.memory_support import (  # noqa: F401 - fixtures
    memory_runtime_fixture,
    minilm_fixture,
    test_embedder_fixture,
    unique,
)
from tests.support import bearer, issue_key

SOME_ID = "6f1c2d0e-7a43-4b8e-9a52-4d1f0e3c9b17"
Call = tuple[str, str, Any]  # method, path, JSON body
READS: list[Call] = [
    ("POST", "/agent-memory/query", {"query": "x"}), ("GET", f"/agent-memory/{SOME_ID}", None),
    ("GET", f"/knowledge/documents/{SOME_ID}", None), ("GET", f"/agent-memory/{SOME_ID}/history", None),
]
WRITES: list[Call] = [
    ("POST", "/agent-memory/store", {"content": {"text": "x"}}), ("DELETE", f"/agent-memory/{SOME_ID}", None),
    ("DELETE", "/agent-memory", None), ("POST", "/knowledge/documents", {"title": "T", "text": "x"}),
    ("DELETE", f"/knowledge/documents/{SOME_ID}", None), ("PATCH", f"/agent-memory/{SOME_ID}", {"kind": "fact"}),
]


def error_of(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["type"])


@pytest.mark.parametrize(("method", "path", "body"), READS + WRITES)
def test_every_memory_route_refuses_a_request_without_a_valid_key_with_401(
    api: httpx.Client, method: str, path: str, body: Any,
) -> None:
    missing = api.request(method, path, json=body)
    assert error_of(missing, 401) == "unauthenticated"
    assert missing.headers["www-authenticate"].startswith("Bearer")
    forged = api.request(method, path, json=body, headers=bearer("dk_0123456789abcdef_" + "x" * 43))
    assert error_of(forged, 401) == "unauthenticated"


def test_a_key_without_memory_write_may_read_but_not_write(api: httpx.Client, database_url: str) -> None:
    microdao = unique("m")
    reader = agent(api, database_url, "reader", microdao, scopes="memory:read")
    for method, path, body in WRITES:
        assert error_of(reader.call(method, path, json=body), 403) == "insufficient_scope", path
    assert reader.post("/agent-memory/query", json={"query": "anything"}).status_code == 200
    writer = agent(api, database_url, "writer", microdao, scopes="memory:write")
    document = post_document(writer, "Handbook", text="The handbook says hello.")["id"]
    for method, path, body in READS:
        assert error_of(writer.call(method, path, json=body), 403) == "insufficient_scope", path
    assert reader.get(f"/knowledge/documents/{document}").status_code == 200, "memory:read of the microDAO reads it"


def test_a_key_with_no_memory_scope_at_all_is_refused_everything(api: httpx.Client, database_url: str) -> None:
    caller = agent(api, database_url, "llm-only", unique("m"), scopes="llm")
    for method, path, body in READS + WRITES:
        assert error_of(caller.call(method, path, json=body), 403) == "insufficient_scope", path


def test_an_operator_key_acts_as_no_agent_so_it_cannot_touch_memories(api: httpx.Client, database_url: str) -> None:
    operator = Agent(api, "operator", "", issue_key(database_url, None))
    for method, path, body in READS + WRITES:
        assert error_of(operator.call(method, path, json=body), 403) == "agent_key_required", path


def test_naming_another_agent_or_microdao_in_a_body_or_query_is_refused_as_identity_mismatch(
    api: httpx.Client, database_url: str,
) -> None:
    sofia = agent(api, database_url, "sofia", unique("m"))
    for claim in ({"agent_id": "petro"}, {"microdao_id": unique("other")}):
        attempts = [
            sofia.post("/agent-memory/store", json={"content": {"text": "x"}, **claim}),
            sofia.post("/agent-memory/query", json={"query": "x", **claim}),
            sofia.post("/knowledge/documents", json={"title": "T", "text": "x", **claim}),
            sofia.delete("/agent-memory", params=claim),
        ]
        for response in attempts:
            assert error_of(response, 403) == "identity_mismatch", response.request.url
    assert query(sofia, "x")["memories"] == [], "nothing was stored"
    named = sofia.post("/agent-memory/query", json={"query": "x", "agent_id": sofia.agent_id, "microdao_id": "",
                                                    "limit": 3})
    assert named.status_code == 200, "its own name, or an empty one, is fine"


async def test_another_tenants_memory_id_reads_and_deletes_as_404_and_the_memory_stays(
    api: httpx.Client, database_url: str, memory_runtime: MemoryContainer,
) -> None:
    microdao = unique("m")
    sofia, petro = agent(api, database_url, "sofia", microdao), agent(api, database_url, "petro", microdao)
    stranger = agent(api, database_url, "sofia", unique("m"))
    secret = store(sofia, "My seed phrase starts with apple banana")
    for other in (petro, stranger):
        for response in (other.get(f"/agent-memory/{secret}"), other.delete(f"/agent-memory/{secret}")):
            assert error_of(response, 404) == "not_found"
            assert response.json()["error"]["message"] == f"no memory {secret}", "the same answer as a missing id"
        assert secret not in ids(query(other, "seed phrase apple banana"))
        assert other.delete("/agent-memory").json() == {"forgotten": []}
    assert await memory_runtime.pool.fetchval("SELECT count(*) FROM memory_items WHERE id = $1", secret) == 1
    assert sofia.get(f"/agent-memory/{secret}").status_code == 200


async def test_documents_of_another_microdao_cannot_be_written_read_or_deleted(
    api: httpx.Client, database_url: str, memory_runtime: MemoryContainer,
) -> None:
    ours, theirs = unique("ours"), unique("theirs")
    author, colleague = agent(api, database_url, "author", theirs), agent(api, database_url, "colleague", theirs)
    outsider = agent(api, database_url, "outsider", ours)
    policy = {"source_uri": "kb://policy", "text": "Their treasury needs three signers."}
    document = post_document(author, "Policy", **policy)["id"]
    for response in (outsider.get(f"/knowledge/documents/{document}"), outsider.get(f"/agent-memory/{document}"),
                     outsider.delete(f"/knowledge/documents/{document}")):
        assert error_of(response, 404) == "not_found"
    named = outsider.post("/knowledge/documents", json={"title": "Policy", "microdao_id": theirs, **policy})
    assert error_of(named, 403) == "identity_mismatch"
    # The same source uri from outside makes the outsider's own document: theirs is neither replaced nor seen.
    own = post_document(outsider, "Policy", source_uri="kb://policy", text="Our treasury needs one signer.")
    assert own["created"] is True and own["id"] != document
    assert document not in ids(query(outsider, "treasury signers"))
    record = colleague.get(f"/knowledge/documents/{document}").json()
    assert record["text"] == policy["text"], "untouched, and every agent of its microDAO reads it"
    assert await memory_runtime.pool.fetchval("SELECT count(*) FROM memory_items WHERE id = $1", document) == 1
    assert colleague.delete(f"/knowledge/documents/{document}").json() == {"forgotten": [document]}
