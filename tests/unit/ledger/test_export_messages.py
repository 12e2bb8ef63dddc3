"""Ledger events as broker messages: subjects by type and microDAO (sanitised for NATS), the event id the
broker de-duplicates by, and a payload of the event's own fields."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from domain.ledger.events import ApiKeyRevoked, LlmCallCompleted, new_entry
from domain.ledger.export import exported, subject_filter, subject_token
from infra.ledger.jetstream_publisher import without_credentials


def test_a_microdao_id_becomes_one_subject_token_and_none_goes_to_global() -> None:
    assert subject_token("microdao:7") == "microdao_7"
    assert subject_token("dao.with spaces>*") == "dao_with_spaces__"
    assert subject_token(None) == subject_token("") == "_global"


def test_a_filter_has_a_wildcard_for_what_is_not_given() -> None:
    assert subject_filter() == "daarion.ledger.*.*"
    assert subject_filter("LlmCallCompleted") == "daarion.ledger.LlmCallCompleted.*"
    assert subject_filter(microdao_id="microdao:7") == "daarion.ledger.*.microdao_7"


def test_an_llm_call_is_published_under_its_type_and_microdao_with_its_fields_as_data() -> None:
    entry = new_entry(LlmCallCompleted, request_id="req_1", agent_id="agent:sofia", microdao_id="microdao:7",
                      logical_model="sofia-default", provider="stub", physical_model="stub-1", prompt_tokens=12,
                      completion_tokens=3, latency_ms=1.25, cost_usd=Decimal("0.000018"), cost_known=True,
                      status="ok", error_type=None, stream=False)
    event = entry.pending_events[0]
    message = exported(event, position=41)

    assert message.subject == "daarion.ledger.LlmCallCompleted.microdao_7"
    assert message.event_id == f"{entry.id}:1" and message.position == 41
    payload = msgspec.json.decode(message.payload)
    assert set(payload) == {"event_id", "type", "position", "timestamp", "data"}
    assert payload["event_id"] == message.event_id and payload["type"] == "LlmCallCompleted"
    assert payload["timestamp"] == event.timestamp.isoformat().replace("+00:00", "Z")
    assert payload["data"] == {
        "request_id": "req_1", "agent_id": "agent:sofia", "microdao_id": "microdao:7",
        "logical_model": "sofia-default", "provider": "stub", "physical_model": "stub-1", "prompt_tokens": 12,
        "completion_tokens": 3, "latency_ms": 1.25, "cost_usd": "0.000018", "cost_known": True, "status": "ok",
        "error_type": None, "stream": False, "fallbacks": 0,
    }


def test_an_event_of_no_microdao_goes_to_the_global_subject() -> None:
    event = new_entry(ApiKeyRevoked, key_id="0123456789abcdef", agent_id=None, microdao_id=None, actor="cli",
                      reason="revoked", effective_at="2026-12-01T00:00:00+00:00").pending_events[0]
    assert exported(event, 1).subject == "daarion.ledger.ApiKeyRevoked._global"


def test_a_nats_url_in_a_log_line_names_the_servers_without_credentials() -> None:
    url = "nats://user:secret@h1:4222, nats://s3cr3t-token@h2:4222,nats://h3:4222"
    assert without_credentials(url) == "nats://h1:4222,nats://h2:4222,nats://h3:4222"
