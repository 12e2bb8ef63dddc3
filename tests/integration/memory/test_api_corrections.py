"""Correcting a memory (PATCH) and reading its history over real HTTP: the text replaced and searchable at
once, indexed again, the old text kept in the history, the ledger told sizes and hashes only, If-Match,
forgetting erasing every version, and another tenant's memory reading as missing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from apps.memory.container import MemoryContainer
from domain.ledger.events import MemoryStored, MemoryUpdated
from domain.memory.model import content_hash
from infra.platform.tenancy import tenant_transaction
from tests.integration.memory.api_calls import Agent, agent, ids, post_document, query, store
from tests.memory_support import (  # noqa: F401 - fixtures
    index_everything,
    ledger_events,
    memory_runtime_fixture,
    minilm_fixture,
    test_embedder_fixture,
    unique,
)

OLD = "The payments release moves to Thursday"
NEW = "The payments release moves to Friday evening after the audit"


def correct(caller: Agent, memory_id: str, body: Mapping[str, Any], **headers: str) -> httpx.Response:
    return caller.call("PATCH", f"/agent-memory/{memory_id}", json=body, headers=headers)


async def test_a_corrected_memory_is_found_by_its_new_text_at_once_and_by_meaning_once_indexed_again(
    api: httpx.Client, database_url: str, memory_runtime: MemoryContainer,
) -> None:
    sofia = agent(api, database_url, "sofia", unique("m"))
    memory_id = store(sofia, OLD, "Noted.", channel_id="c")
    await index_everything(memory_runtime)
    response = correct(sofia, memory_id, {"content": {"user_message": NEW, "agent_reply": "Noted."}})
    assert response.status_code == 200, response.text
    record = response.json()
    assert (record["version"], record["content"]["user_message"], record["indexed_chunks"]) == (2, NEW, 0)
    assert response.headers["etag"] == '"2"'
    assert ids(query(sofia, "audit evening")) == [memory_id], "full text finds the new words before any vector"
    assert ids(query(sofia, "Thursday")) == [], "the old words are gone from search"
    await index_everything(memory_runtime)
    assert sofia.get(f"/agent-memory/{memory_id}").json()["indexed_chunks"] == 1
    assert ids(query(sofia, "when do we ship the billing feature?"))[:1] == [memory_id]


async def test_the_history_keeps_the_old_text_and_the_ledger_holds_hashes_and_sizes_only(
    api: httpx.Client, database_url: str, memory_runtime: MemoryContainer,
) -> None:
    microdao = unique("m")
    sofia = agent(api, database_url, "sofia", microdao)
    stored = sofia.post("/agent-memory/store", headers={"x-request-id": f"store-{microdao}"},
                        json={"kind": "fact", "content": {"text": OLD}, "metadata": {"project": "x"}})
    memory_id = stored.json()["id"]
    fixed = correct(sofia, memory_id, {"content": {"text": NEW}}, **{"x-request-id": f"fix-{microdao}"})
    assert fixed.status_code == 200, fixed.text
    retagged = correct(sofia, memory_id, {"kind": "task", "metadata": {"project": "y"}})
    assert retagged.json()["version"] == 3 and retagged.json()["content"] == {"text": NEW}
    history = sofia.get(f"/agent-memory/{memory_id}/history")
    assert history.status_code == 200, history.text
    body = history.json()
    assert (body["id"], body["version"]) == (memory_id, 3)
    assert [(e["version"], e["event"], e["recorded"], e["kind"], e["content"]["text"], e["metadata"])
            for e in body["entries"]] == [(1, "stored", True, "fact", OLD, {"project": "x"}),
                                          (2, "updated", True, "fact", NEW, {"project": "x"}),
                                          (3, "updated", True, "task", NEW, {"project": "y"})]
    assert [e["request_id"] for e in body["entries"][:2]] == [f"store-{microdao}", f"fix-{microdao}"]
    assert body["entries"][0]["at"] <= body["entries"][1]["at"] <= body["entries"][2]["at"]
    [event] = [e for e in ledger_events(memory_runtime.core.ledger, MemoryUpdated)
               if e.memory_id == memory_id and e.version == 2]
    assert (event.old_content_hash, event.new_content_hash, event.old_content_bytes, event.new_content_bytes,
            event.agent_id, event.microdao_id) == (content_hash("", "", OLD), content_hash("", "", NEW), len(OLD),
                                                   len(NEW), sofia.agent_id, microdao)
    assert OLD not in repr(vars(event)) and NEW not in repr(vars(event)), "no text in the ledger"
    assert any(e.memory_id == memory_id for e in ledger_events(memory_runtime.core.ledger, MemoryStored))


def test_if_match_of_a_version_no_longer_current_is_412_and_changes_nothing(
    api: httpx.Client, database_url: str,
) -> None:
    sofia = agent(api, database_url, "sofia", unique("m"))
    memory_id = store(sofia, OLD)
    assert correct(sofia, memory_id, {"content": {"text": NEW}}, **{"if-match": '"1"'}).status_code == 200
    stale = correct(sofia, memory_id, {"content": {"text": "a third text"}}, **{"if-match": '"1"'})
    assert stale.status_code == 412 and stale.json()["error"]["type"] == "precondition_failed"
    assert sofia.get(f"/agent-memory/{memory_id}").json()["content"] == {"text": NEW}
    assert correct(sofia, memory_id, {"kind": "fact"}, **{"if-match": 'W/"2"'}).json()["version"] == 3
    garbage = correct(sofia, memory_id, {"kind": "fact"}, **{"if-match": "yesterday"})
    assert garbage.status_code == 400 and "If-Match" in garbage.json()["error"]["message"]


def test_a_store_replayed_with_its_idempotency_key_after_a_correction_returns_the_corrected_memory(
    api: httpx.Client, database_url: str,
) -> None:
    sofia = agent(api, database_url, "sofia", unique("m"))
    memory_id = store(sofia, OLD, idempotency_key="turn-1")
    correct(sofia, memory_id, {"content": {"text": NEW}})
    replay = sofia.post("/agent-memory/store", json={"idempotency_key": "turn-1",
                                                     "content": {"user_message": OLD, "agent_reply": "Noted."}})
    assert replay.status_code == 201 and (replay.json()["id"], replay.json()["deduplicated"]) == (memory_id, True)
    other = sofia.post("/agent-memory/store", json={"idempotency_key": "turn-1", "content": {"text": NEW}})
    assert other.status_code == 409, "the key stands for the content it was first sent with"
    assert sofia.get(f"/agent-memory/{memory_id}").json()["content"] == {"text": NEW}


def test_a_correction_that_changes_nothing_keeps_the_version_and_bad_ones_are_400_or_409(
    api: httpx.Client, database_url: str,
) -> None:
    sofia = agent(api, database_url, "sofia", unique("m"))
    memory_id, other = store(sofia, OLD), store(sofia, NEW)
    same = correct(sofia, memory_id, {"content": {"user_message": OLD, "agent_reply": "Noted."}})
    assert same.status_code == 200 and same.json()["version"] == 1
    clash = correct(sofia, memory_id, {"content": {"user_message": NEW, "agent_reply": "Noted."}})
    assert clash.status_code == 409 and other in clash.json()["error"]["message"]
    for body in ({}, {"content": {"text": "  "}}, {"kind": "poem"}, {"content": {"text": "x"}, "agent_id": "me"},
                 {"metadata": {f"k{i}": i for i in range(40)}}):
        assert correct(sofia, memory_id, body).status_code == 400, body
    assert correct(sofia, "not-a-uuid", {"kind": "fact"}).status_code == 400
    assert sofia.get(f"/agent-memory/{memory_id}").json()["version"] == 1


async def test_forgetting_a_corrected_memory_erases_every_version_and_its_history_reads_as_404(
    api: httpx.Client, database_url: str, memory_runtime: MemoryContainer,
) -> None:
    sofia = agent(api, database_url, "sofia", unique("m"))
    memory_id = store(sofia, OLD)
    correct(sofia, memory_id, {"content": {"text": NEW}})
    assert await memory_runtime.pool.fetchval("SELECT count(*) FROM memory_versions WHERE item_id = $1", memory_id) == 1
    assert sofia.delete(f"/agent-memory/{memory_id}").status_code == 200
    assert await memory_runtime.pool.fetchval("SELECT count(*) FROM memory_versions WHERE item_id = $1", memory_id) == 0
    assert sofia.get(f"/agent-memory/{memory_id}/history").status_code == 404
    assert correct(sofia, memory_id, {"kind": "fact"}).status_code == 404
    assert ids(query(sofia, "payments release Thursday Friday")) == []


async def test_another_agents_or_microdaos_memory_cannot_be_corrected_or_its_history_read(
    api: httpx.Client, database_url: str, memory_runtime: MemoryContainer,
) -> None:
    microdao = unique("m")
    sofia, petro = agent(api, database_url, "sofia", microdao), agent(api, database_url, "petro", microdao)
    stranger = agent(api, database_url, "sofia", unique("m"))
    secret = store(sofia, "My seed phrase starts with apple banana")
    document = post_document(sofia, "Handbook", text="The handbook says hello.")["id"]
    for other in (petro, stranger):
        for response in (correct(other, secret, {"content": {"text": "overwritten"}}),
                         other.get(f"/agent-memory/{secret}/history")):
            assert response.status_code == 404, response.text
            assert response.json()["error"]["message"] == f"no memory {secret}", "the same answer as a missing id"
    assert correct(petro, document, {"kind": "fact"}).status_code == 404, "documents are replaced by posting them"
    assert petro.get(f"/agent-memory/{document}/history").status_code == 404
    assert sofia.get(f"/agent-memory/{secret}").json()["version"] == 1
    assert correct(sofia, secret, {"content": {"text": "My seed phrase is safe now"}}).status_code == 200
    async with tenant_transaction(memory_runtime.pool, microdao, petro.agent_id) as connection:
        assert await connection.fetchval("SELECT count(*) FROM memory_versions") == 0, "row security, no WHERE"
    async with tenant_transaction(memory_runtime.pool, microdao, sofia.agent_id) as connection:
        assert await connection.fetchval("SELECT count(*) FROM memory_versions") == 1
