"""Streaming: usage recorded from the final chunk, client disconnects and upstream breaks recorded."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx

from domain.ledger.events import LlmCallCancelled, LlmCallCompleted, LlmCallFailed
from tests.proxy_support import auth, body, events_of
from tests.support import wait_until

URL = "/internal/llm/proxy"


def sse_events(text: str) -> list[Any]:
    return [line[6:] for line in text.splitlines() if line.startswith("data: ")]


def test_a_streamed_call_records_the_usage_of_the_final_chunk_before_done(proxy: str, ledger: Any) -> None:
    response = httpx.post(proxy + URL, json=body(model="gpt", text="stream please", stream=True), timeout=30,
                          headers=auth())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    assert events[-1] == "[DONE]"
    usage = json.loads(events[-2])["usage"]
    assert usage["cost_usd"] == response.headers.get("x-daarion-cost-usd", usage["cost_usd"])
    assert float(usage["cost_usd"]) > 0
    [event] = events_of(ledger, response.headers["x-request-id"])
    assert isinstance(event, LlmCallCompleted) and event.stream
    assert (event.prompt_tokens, event.completion_tokens) == (usage["prompt_tokens"], usage["completion_tokens"])


def test_an_upstream_that_breaks_mid_stream_yields_an_error_event_and_a_failed_call(proxy: str, ledger: Any) -> None:
    response = httpx.post(proxy + URL, json=body(model="break", stream=True), timeout=30, headers=auth())
    events = sse_events(response.text)
    assert "[DONE]" not in events
    error = json.loads(events[-1])["error"]
    assert error["type"] == "upstream_error"
    assert error["request_id"] == response.headers["x-request-id"]
    [event] = events_of(ledger, response.headers["x-request-id"])
    assert isinstance(event, LlmCallFailed)
    assert (event.status, event.error_type, event.stream) == ("failed", "stream_broken", True)
    assert event.completion_tokens > 0


def test_a_client_that_disconnects_mid_stream_is_recorded_as_cancelled_with_tokens_so_far(
    proxy: str, ledger: Any
) -> None:
    request_id = f"cancel-{uuid.uuid4().hex}"
    received = 0
    with httpx.stream("POST", proxy + URL, json=body(model="drip", stream=True), timeout=30,
                      headers={**auth(), "x-request-id": request_id}) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                received += 1
            if received == 5:
                break
    started = time.monotonic()
    wait_until(lambda: bool(events_of(ledger, request_id)), timeout=10)
    [event] = events_of(ledger, request_id)
    assert isinstance(event, LlmCallCancelled)
    assert (event.status, event.error_type) == ("cancelled", "client_disconnected")
    assert 0 < event.completion_tokens < 60
    assert time.monotonic() - started < 5  # recorded promptly, not when the upstream would have finished


def test_errors_before_the_stream_starts_keep_their_http_status(proxy: str) -> None:
    response = httpx.post(proxy + URL, json=body(model="all-fail", stream=True), timeout=30, headers=auth())
    assert response.status_code == 502
    assert response.json()["error"]["type"] == "upstream_error"


def test_streaming_falls_back_before_the_first_chunk(proxy: str) -> None:
    response = httpx.post(proxy + URL, json=body(model="fallback", stream=True), timeout=30, headers=auth())
    assert response.status_code == 200
    assert response.headers["x-daarion-provider"] == "deepseek"
    text = "".join(json.loads(e)["choices"][0]["delta"].get("content", "")
                   for e in sse_events(response.text)[:-1] if json.loads(e)["choices"])
    assert text.startswith("echo from ok-deepseek")
