"""A 200 from an upstream that is not an answer, through the real proxy over HTTP (issue 11, failure 3).

Every malformed answer of the fake upstreams (tests/fakes/llm_servers.py: MALFORMED_OPENAI, MALFORMED_OLLAMA)
is tried alone and with a healthy target after it, streamed and not. Alone, the client gets 502
upstream_error (an SSE error event once the stream has begun) and the ledger one LlmCallFailed of the
right kind; with a next target, the call falls back unless output had already reached the client.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from apps.llm_proxy.app import create_app
from domain.ledger.events import LlmCallCompleted, LlmCallFailed
from tests.fakes.llm_servers import MALFORMED_OLLAMA, MALFORMED_OPENAI, FakeOllama, FakeOpenAI
from tests.proxy_support import UPSTREAM_KEY, auth, body, events_of, proxy_config
from tests.support import serve_in_thread

URL = "/internal/llm/proxy"


class Expected:
    """What the ledger records for a malformed model: its error type (complete, stream), and whether a
    stream of it fails only after its first delta reached the client (then it cannot fall back)."""

    def __init__(self, complete: str = "bad_response", stream: str = "bad_response", late: bool = False) -> None:
        self.complete, self.stream, self.late = complete, stream, late


TRUNCATED = Expected("connect", "connect")  # the connection closed mid-body: a connection failure
EXPECTED: dict[tuple[str, str], Expected] = {
    ("openai", "malformed-choices"): Expected(),
    ("openai", "malformed-no-choices"): Expected(),
    ("openai", "malformed-usage"): Expected(late=True),
    ("openai", "malformed-chunk"): Expected(),
    ("openai", "malformed-late-chunk"): Expected(late=True),
    ("openai", "malformed-cut-json"): Expected(),
    ("openai", "malformed-not-json"): Expected(),
    ("openai", "malformed-truncated"): TRUNCATED,
    ("ollama", "malformed-message"): Expected(),
    ("ollama", "malformed-usage"): Expected(late=True),
    ("ollama", "malformed-line"): Expected(),
    ("ollama", "malformed-late-line"): Expected(late=True),
    ("ollama", "malformed-not-json"): Expected(),
    ("ollama", "malformed-truncated"): TRUNCATED,
    ("ollama", "malformed-no-done"): Expected(stream="stream_broken", late=True),
}
CASES = sorted(EXPECTED)


def test_every_malformed_answer_of_the_fakes_is_tried() -> None:
    assert {model for provider, model in CASES if provider == "openai"} == set(MALFORMED_OPENAI)
    assert {model for provider, model in CASES if provider == "ollama"} == set(MALFORMED_OLLAMA)


def alone(provider: str, model: str) -> str:
    return f"{provider}/{model}"


def then_ok(provider: str, model: str) -> str:
    return f"{provider}/{model}/then-ok"


@pytest.fixture(scope="module")
def garbled_proxy(
    database_url: str, fake_openai: tuple[FakeOpenAI, str], fake_ollama: tuple[FakeOllama, str],
) -> Iterator[str]:
    models: dict[str, Any] = {}
    for provider, model in CASES:
        target = {"provider": provider, "model": model, "timeout_s": 5}
        models[alone(provider, model)] = {"targets": [target]}
        models[then_ok(provider, model)] = {"targets": [target, {"provider": "deepseek", "model": "ok-deepseek"}]}
    config = proxy_config(fake_openai[1], fake_ollama[1], models=models)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TEST_UPSTREAM_KEY", UPSTREAM_KEY)
        with serve_in_thread(create_app(config)) as base:
            yield base


def ask(proxy: str, model: str, stream: bool) -> tuple[httpx.Response, str]:
    request_id = f"garbled-{uuid.uuid4().hex}"
    response = httpx.post(proxy + URL, json=body(model=model, stream=stream), timeout=30,
                          headers={**auth(), "x-request-id": request_id})
    return response, request_id


def sse_data(text: str) -> list[str]:
    return [line[6:] for line in text.splitlines() if line.startswith("data: ")]


@pytest.mark.parametrize("provider, model", CASES)
def test_a_malformed_answer_from_the_only_target_is_a_502_and_one_failed_call_of_its_kind(
    garbled_proxy: str, ledger: Any, provider: str, model: str,
) -> None:
    response, request_id = ask(garbled_proxy, alone(provider, model), stream=False)
    assert response.status_code == 502
    assert response.json()["error"]["type"] == "upstream_error"
    [event] = events_of(ledger, request_id)
    assert isinstance(event, LlmCallFailed)
    assert (event.status, event.error_type, event.stream) == ("failed", EXPECTED[provider, model].complete, False)
    assert (event.provider, event.physical_model, event.fallbacks) == (provider, model, 0)


@pytest.mark.parametrize("provider, model", CASES)
def test_a_malformed_answer_falls_back_to_the_next_target(
    garbled_proxy: str, ledger: Any, provider: str, model: str,
) -> None:
    response, request_id = ask(garbled_proxy, then_ok(provider, model), stream=False)
    assert response.status_code == 200
    assert response.headers["x-daarion-provider"] == "deepseek"
    assert response.json()["choices"][0]["message"]["content"].startswith("echo from ok-deepseek")
    [event] = events_of(ledger, request_id)
    assert isinstance(event, LlmCallCompleted) and (event.provider, event.fallbacks) == ("deepseek", 1)


@pytest.mark.parametrize("provider, model", CASES)
def test_a_malformed_stream_from_the_only_target_fails_as_its_kind_never_as_cancelled(
    garbled_proxy: str, ledger: Any, provider: str, model: str,
) -> None:
    expected = EXPECTED[provider, model]
    response, request_id = ask(garbled_proxy, alone(provider, model), stream=True)
    if expected.late:  # the stream had begun: the failure is its last event, and there is no [DONE]
        assert response.status_code == 200
        *deltas, last = sse_data(response.text)
        assert deltas and "[DONE]" not in deltas
        error = json.loads(last)["error"]
        assert (error["type"], error["request_id"]) == ("upstream_error", request_id)
    else:
        assert response.status_code == 502
        assert response.json()["error"]["type"] == "upstream_error"
    [event] = events_of(ledger, request_id)
    assert isinstance(event, LlmCallFailed)
    assert (event.status, event.error_type, event.stream) == ("failed", expected.stream, True)
    assert (event.provider, event.fallbacks) == (provider, 0)
    assert (event.completion_tokens > 0) is expected.late


@pytest.mark.parametrize("provider, model", CASES)
def test_a_malformed_stream_falls_back_until_its_first_delta_reached_the_client(
    garbled_proxy: str, ledger: Any, provider: str, model: str,
) -> None:
    expected = EXPECTED[provider, model]
    response, request_id = ask(garbled_proxy, then_ok(provider, model), stream=True)
    assert response.status_code == 200
    [event] = events_of(ledger, request_id)
    if expected.late:
        assert response.headers["x-daarion-provider"] == provider
        assert json.loads(sse_data(response.text)[-1])["error"]["type"] == "upstream_error"
        assert isinstance(event, LlmCallFailed) and (event.error_type, event.fallbacks) == (expected.stream, 0)
    else:
        assert response.headers["x-daarion-provider"] == "deepseek"
        assert sse_data(response.text)[-1] == "[DONE]"
        assert isinstance(event, LlmCallCompleted) and (event.provider, event.fallbacks) == ("deepseek", 1)
