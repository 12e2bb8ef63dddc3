"""Routing, fallback and every error status of the LLM proxy, against real local upstreams."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from domain.ledger.events import LlmCallCompleted, LlmCallFailed
from tests.fakes.llm_servers import FakeOpenAI
from tests.proxy_support import UPSTREAM_KEY, auth, auth_for, body, events_of, operator_key
from tests.support import bearer

URL = "/internal/llm/proxy"


def call(proxy: str, payload: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """As the agent the body names, with that agent's own key."""
    return httpx.post(proxy + URL, json=payload, timeout=30, headers={**auth_for(payload), **(headers or {})})


def assert_error(response: httpx.Response, status: int, type_: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] == type_
    assert error["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    return error


def test_the_seed_request_is_answered_in_the_openai_shape_with_request_id_and_overhead(proxy: str) -> None:
    response = call(proxy, body(model="gpt", text="Sofia, status?"))
    assert response.status_code == 200
    payload = response.json()
    assert payload["object"] == "chat.completion"
    assert payload["choices"][0]["message"] == {"role": "assistant", "content": "echo from ok-gpt: Sofia, status?"}
    assert payload["usage"]["total_tokens"] == payload["usage"]["prompt_tokens"] + payload["usage"]["completion_tokens"]
    assert response.headers["x-request-id"].startswith("req_")
    assert float(response.headers["x-daarion-overhead-ms"]) >= 0
    assert response.headers["x-daarion-provider"] == "openai"


def test_an_incoming_request_id_is_kept_end_to_end(proxy: str, ledger: Any) -> None:
    request_id = f"turn-{uuid.uuid4().hex}"
    response = call(proxy, body(), headers={"x-request-id": request_id})
    assert response.headers["x-request-id"] == request_id
    [event] = events_of(ledger, request_id)
    assert isinstance(event, LlmCallCompleted)


def test_a_failing_provider_falls_back_to_the_next_target_and_the_ledger_says_so(proxy: str, ledger: Any) -> None:
    for model in ("fallback", "fallback-429"):
        response = call(proxy, body(model=model))
        assert response.status_code == 200, response.text
        assert response.json()["choices"][0]["message"]["content"].startswith("echo from ok-deepseek")
        assert response.headers["x-daarion-provider"] == "deepseek"
        [event] = events_of(ledger, response.headers["x-request-id"])
        assert (event.provider, event.physical_model, event.fallbacks) == ("deepseek", "ok-deepseek", 1)


def test_a_target_without_credentials_is_skipped(proxy: str) -> None:
    response = call(proxy, body(model="no-key"))
    assert response.status_code == 200
    assert response.headers["x-daarion-provider"] == "openai"


def test_a_request_the_provider_rejects_is_a_400_and_never_falls_back(
    proxy: str, fake_openai: tuple[FakeOpenAI, str], ledger: Any
) -> None:
    before = len(fake_openai[0].requests)
    response = call(proxy, body(model="rejected"))
    error = assert_error(response, 400, "invalid_request")
    assert "too long" in error["message"]
    assert [r["body"]["model"] for r in fake_openai[0].requests[before:]] == ["reject-400"]
    [event] = events_of(ledger, response.headers["x-request-id"])
    assert isinstance(event, LlmCallFailed) and event.error_type == "rejected"


def test_when_every_target_fails_the_client_gets_502_and_a_failed_event_is_recorded(proxy: str, ledger: Any) -> None:
    response = call(proxy, body(model="all-fail"))
    error = assert_error(response, 502, "upstream_error")
    assert "fail-500" in error["message"] and "fail-429" in error["message"]
    [event] = events_of(ledger, response.headers["x-request-id"])
    assert isinstance(event, LlmCallFailed)
    assert (event.status, event.error_type, event.cost_usd, event.cost_known) == ("failed", "rate_limited", None, False)


def test_a_provider_timeout_is_a_504(proxy: str) -> None:
    assert_error(call(proxy, body(model="timeout")), 504, "timeout")


def test_an_unknown_model_is_a_404(proxy: str) -> None:
    assert_error(call(proxy, body(model="gpt-9-ultra")), 404, "unknown_model")


@pytest.mark.parametrize("raw", [b"{not json", b'{"model": "gpt"}', b'[]'])
def test_malformed_bodies_are_a_400(proxy: str, raw: bytes) -> None:
    response = httpx.post(proxy + URL, content=raw, headers={"content-type": "application/json", **auth()})
    assert_error(response, 400, "invalid_request")


def test_unknown_fields_are_a_400_that_names_the_field(proxy: str) -> None:
    error = assert_error(call(proxy, body(temprature=0.3)), 400, "invalid_request")
    assert "temprature" in error["message"]


def test_a_message_with_an_unknown_role_is_a_400(proxy: str) -> None:
    payload = body()
    payload["messages"] = [{"role": "wizard", "content": "hi"}]
    assert_error(call(proxy, payload), 400, "invalid_request")


def test_an_agent_claiming_another_microdao_is_a_403_as_in_every_service(proxy: str) -> None:
    payload = body()
    payload["metadata"]["microdao_id"] = "microdao:8"
    error = assert_error(call(proxy, payload, auth()), 403, "identity_mismatch")
    assert "microdao:7" in error["message"]


def test_a_call_whose_worst_case_does_not_fit_the_monthly_budget_is_a_402_before_any_upstream_call(
    proxy: str, fake_openai: tuple[FakeOpenAI, str],
) -> None:
    upstream_calls = len(fake_openai[0].requests)
    error = assert_error(call(proxy, body(agent="agent:broke", model="gpt")), 402, "budget_exhausted")
    assert "agent agent:broke" in error["message"] and "may cost up to" in error["message"]
    assert len(fake_openai[0].requests) == upstream_calls
    assert call(proxy, body(agent="agent:broke", model="stub")).status_code == 200, "a free model fits"


def test_a_microdao_over_its_budget_blocks_all_its_agents(proxy: str) -> None:
    for agent in ("agent:rich-1", "agent:rich-2"):
        error = assert_error(call(proxy, body(agent=agent, model="gpt", microdao_id="microdao:poor")), 402,
                             "budget_exhausted")
        assert "microdao:poor" in error["message"]


def test_max_tokens_above_the_agent_s_cap_is_a_400_that_names_the_cap(proxy: str) -> None:
    error = assert_error(call(proxy, body(max_tokens=1_000_000)), 400, "invalid_request")
    assert "cap of 32768" in error["message"]


def test_an_agent_over_its_requests_per_minute_gets_429_with_retry_after(proxy: str) -> None:
    statuses = [call(proxy, body(agent="agent:limited", model="stub")) for _ in range(5)]
    assert [r.status_code for r in statuses].count(200) <= 3
    limited = [r for r in statuses if r.status_code == 429]
    assert limited
    assert_error(limited[0], 429, "rate_limited")
    # A sliding window: requests of this minute count, fading, into the next one, so the wait may pass 60 s.
    assert 1 <= int(limited[0].headers["retry-after"]) <= 120


def test_tokens_per_minute_are_reserved_at_admission(proxy: str) -> None:
    ok = call(proxy, body(agent="agent:few-tokens", model="stub", max_tokens=1500))
    assert ok.status_code == 200
    # The first call's unused reservation is given back shortly after; a request that can never fit is a 400.
    assert_error(call(proxy, body(agent="agent:few-tokens", model="stub", max_tokens=5000)), 400, "invalid_request")


def test_the_upstream_api_key_never_reaches_clients_or_the_ledger(
    proxy: str, fake_openai: tuple[FakeOpenAI, str], ledger: Any, caplog: pytest.LogCaptureFixture
) -> None:
    response = call(proxy, body(model="all-fail"))
    assert UPSTREAM_KEY not in response.text
    assert fake_openai[0].requests[-1]["headers"]["authorization"] == f"Bearer {UPSTREAM_KEY}"
    for event in events_of(ledger, response.headers["x-request-id"]):
        assert UPSTREAM_KEY not in repr(event.__dict__)
    assert UPSTREAM_KEY not in caplog.text


def test_health_readiness_and_metrics(proxy: str) -> None:
    assert httpx.get(proxy + "/healthz").json()["status"] == "ok"
    ready = httpx.get(proxy + "/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "config": "ok"}
    call(proxy, body(model="fallback"))
    metrics = httpx.get(proxy + "/metrics", headers=bearer(operator_key())).text
    for name in ("llm_proxy_requests_total", "llm_proxy_request_seconds_bucket", "llm_proxy_tokens_total",
                 "llm_proxy_cost_usd_total", "llm_proxy_provider_errors_total", "llm_proxy_fallbacks_total"):
        assert name in metrics
