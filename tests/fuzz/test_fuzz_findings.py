"""What the fuzz stage found, kept as regression tests against the same five services: answers that broke
their published document, and timestamps PostgreSQL cannot give back (one of them broke every later recall
of the agent that stored it)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis

from apps.common.openapi import SPEC_PATH
from tests.fuzz.fuzzing import FuzzTarget
from tests.fuzz.stack import EMBEDDINGS_MODEL, MODEL

OUT_OF_RANGE = ["9999-12-31T23:59:59.999999Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-05:00",
                "0001-01-01T00:00:00+05:00"]


def published(target: FuzzTarget) -> Any:
    return schemathesis.openapi.from_dict(httpx.get(target.base_url + SPEC_PATH, timeout=30).json())


def call(target: FuzzTarget, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"authorization": f"Bearer {target.key_for(path)}"}
    return httpx.request(method, target.base_url + path, headers=headers, timeout=30, **kwargs)


@pytest.mark.parametrize("stamp", OUT_OF_RANGE)
def test_a_memory_dated_where_postgres_cannot_date_it_is_a_400_and_recall_keeps_working(
    fuzz_targets: dict[str, FuzzTarget], stamp: str,
) -> None:
    memory = fuzz_targets["memory"]
    stored = call(memory, "POST", "/internal/agent-memory/store",
                  json={"content": {"text": f"dated {stamp}"}, "occurred_at": stamp})
    assert stored.status_code == 400, stored.text
    assert "occurred_at must lie between" in stored.json()["error"]["message"]
    for bound in ("since", "until"):
        searched = call(memory, "POST", "/internal/agent-memory/query", json={"query": "dated", bound: stamp})
        assert searched.status_code == 400, searched.text
    assert call(memory, "POST", "/internal/agent-memory/query", json={"query": "dated"}).status_code == 200


def test_numbers_in_recalled_metadata_match_the_published_schema(fuzz_targets: dict[str, FuzzTarget]) -> None:
    memory = fuzz_targets["memory"]
    stored = call(memory, "POST", "/internal/agent-memory/store",
                  json={"content": {"text": "metadata numbers"}, "metadata": {"n": -19784, "x": 1.5}})
    assert stored.status_code == 201, stored.text
    recalled = call(memory, "POST", "/internal/agent-memory/query", json={"query": "metadata numbers"})
    assert any(hit["metadata"] == {"n": -19784, "x": 1.5} for hit in recalled.json()["memories"])
    published(memory)["/internal/agent-memory/query"]["POST"].validate_response(recalled)


@pytest.mark.parametrize("output", ["native", "openai"])
def test_both_tool_list_formats_match_the_published_schema(fuzz_targets: dict[str, FuzzTarget], output: str) -> None:
    toolcore = fuzz_targets["toolcore"]
    listed = call(toolcore, "GET", "/internal/tools", params={"format": output})
    assert listed.status_code == 200, listed.text
    published(toolcore)["/internal/tools"]["GET"].validate_response(listed)


@pytest.mark.parametrize("stream", [False, True])
def test_a_chat_completion_whole_or_streamed_matches_the_published_schema(
    fuzz_targets: dict[str, FuzzTarget], stream: bool,
) -> None:
    proxy = fuzz_targets["llm-proxy"]
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hello"}], "stream": stream}
    answered = call(proxy, "POST", "/v1/chat/completions", json=body)
    assert answered.status_code == 200, answered.text
    assert answered.headers["content-type"].startswith("text/event-stream" if stream else "application/json")
    published(proxy)["/v1/chat/completions"]["POST"].validate_response(answered)


@pytest.mark.parametrize("stream", [False, True])
def test_a_response_whole_or_streamed_matches_the_published_schema(
    fuzz_targets: dict[str, FuzzTarget], stream: bool,
) -> None:
    proxy = fuzz_targets["llm-proxy"]
    tool = {"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}
    for text in ("hello", "[[tool:lookup {}]]"):
        body = {"model": MODEL, "input": text, "tools": [tool], "stream": stream}
        answered = call(proxy, "POST", "/v1/responses", json=body)
        assert answered.status_code == 200, answered.text
        published(proxy)["/v1/responses"]["POST"].validate_response(answered)


@pytest.mark.parametrize("encoding", ["float", "base64"])
def test_embeddings_and_a_model_card_match_the_published_schema(
    fuzz_targets: dict[str, FuzzTarget], encoding: str,
) -> None:
    proxy = fuzz_targets["llm-proxy"]
    body = {"model": EMBEDDINGS_MODEL, "input": ["hello", "world"], "encoding_format": encoding}
    answered = call(proxy, "POST", "/v1/embeddings", json=body)
    assert answered.status_code == 200, answered.text
    published(proxy)["/v1/embeddings"]["POST"].validate_response(answered)
    card = call(proxy, "GET", f"/v1/models/{EMBEDDINGS_MODEL}")
    assert card.status_code == 200 and card.json()["daarion"]["targets"][0]["last_result"] == "ok"
    published(proxy)["/v1/models/{model_id}"]["GET"].validate_response(card)


@pytest.mark.parametrize("stream", [False, True])
def test_a_turn_whole_or_streamed_matches_the_published_schema(
    fuzz_targets: dict[str, FuzzTarget], stream: bool,
) -> None:
    runtime = fuzz_targets["agent-runtime"]
    path = "/internal/agents/agent:sofia/messages"
    answered = call(runtime, "POST", path, params={"stream": str(stream).lower()},
                    json={"channel_id": "fuzz-regression", "user_id": "member:olena", "text": "hello"})
    assert answered.status_code == 200, answered.text
    published(runtime)["/internal/agents/{agent_id}/messages"]["POST"].validate_response(answered)


def test_a_usage_report_matches_the_published_schema(fuzz_targets: dict[str, FuzzTarget]) -> None:
    proxy = fuzz_targets["llm-proxy"]
    report = call(proxy, "GET", "/internal/usage", params={"group_by": "model"})
    assert report.status_code == 200, report.text
    assert {"from", "to", "group_by", "complete", "rows", "totals", "agent_id", "microdao_id"} == set(report.json())
    published(proxy)["/internal/usage"]["GET"].validate_response(report)
