"""Every proxy answer says what the caller may still do: OpenAI's x-ratelimit-* headers, and the least
that any of its budgets has left; and what a call may cost is bounded by the max_tokens sent upstream."""

from __future__ import annotations

import os
import re
from decimal import Decimal
from typing import Any

import httpx

from tests.fakes.llm_servers import FakeOpenAI
from tests.proxy_support import auth_for, body
from tests.support import bearer, issue_key, unique_id

URL = "/internal/llm/proxy"
RESET = re.compile(r"^(\d+m)?\d+s$")


def call(proxy: str, payload: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(proxy + URL, json=payload, timeout=30, headers=headers or auth_for(payload))


def assert_rate_headers(response: httpx.Response, limit_requests: int) -> None:
    headers = response.headers
    assert headers["x-ratelimit-limit-requests"] == str(limit_requests)
    assert 0 <= int(headers["x-ratelimit-remaining-requests"]) <= limit_requests
    assert int(headers["x-ratelimit-limit-tokens"]) >= int(headers["x-ratelimit-remaining-tokens"]) >= 0
    assert RESET.match(headers["x-ratelimit-reset-requests"]) and RESET.match(headers["x-ratelimit-reset-tokens"])


def test_a_completion_carries_the_rate_limit_headers_and_no_budget_header_when_no_budget_applies(proxy: str) -> None:
    response = call(proxy, body(model="stub"))
    assert response.status_code == 200
    assert_rate_headers(response, 10_000)
    assert "x-daarion-budget-remaining-usd" not in response.headers


def test_a_streamed_answer_carries_them_too(proxy: str) -> None:
    with httpx.stream("POST", proxy + URL, json=body(model="stub", stream=True), headers=auth_for(body()),
                      timeout=30) as response:
        assert response.status_code == 200
        assert_rate_headers(response, 10_000)
        response.read()


def test_a_call_held_to_a_budget_is_told_the_least_that_is_left(proxy: str) -> None:
    agent, microdao = unique_id("agent:budgeted"), unique_id("microdao:budgeted")
    key = issue_key(os.environ["DATABASE_URL"], agent, microdao, monthly_budget_usd=Decimal(5))
    response = call(proxy, body(agent=agent, model="gpt", microdao_id=microdao), bearer(key))
    assert response.status_code == 200
    left = Decimal(response.headers["x-daarion-budget-remaining-usd"])
    assert Decimal("4.9") < left < 5, "less the call's worst case while it ran"


def test_a_429_says_no_request_is_left_and_when_to_retry(proxy: str) -> None:
    responses = [call(proxy, body(agent="agent:limited", model="stub")) for _ in range(4)]
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.json()["error"]["type"] == "rate_limited"
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"
    assert refused.headers["x-ratelimit-limit-requests"] == "3"
    assert 1 <= int(refused.headers["retry-after"]) <= 120


def test_a_402_says_how_little_is_left_streamed_or_not(proxy: str) -> None:
    for stream in (False, True):
        response = call(proxy, body(agent="agent:broke", model="gpt", stream=stream))
        assert response.status_code == 402
        assert response.json()["error"]["request_id"] == response.headers["x-request-id"]
        assert response.headers["x-daarion-budget-remaining-usd"] == "0.000000"
        assert_rate_headers(response, 10_000)


def test_a_request_without_max_tokens_is_sent_upstream_with_the_default(
    proxy: str, fake_openai: tuple[FakeOpenAI, str],
) -> None:
    assert call(proxy, body(model="gpt")).status_code == 200
    assert fake_openai[0].requests[-1]["body"]["max_tokens"] == 1024
