"""Usage events and projections match what clients received; a rebuild gives identical totals."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx

from infra.ledger.usage_projection import UsageProjector
from tests.proxy_support import auth_for, body, events_of, operator_key
from tests.support import bearer


def call(proxy: str, payload: dict[str, Any]) -> httpx.Response:
    return httpx.post(proxy + "/internal/llm/proxy", json=payload, headers=auth_for(payload), timeout=30)


def usage_rows(proxy: str, group_by: str) -> dict[str, dict[str, Any]]:
    response = httpx.get(proxy + "/internal/usage", params={"group_by": group_by}, timeout=30,
                         headers=bearer(operator_key()))
    assert response.status_code == 200, response.text
    assert response.json()["complete"] is True
    return {row["key"]: row for row in response.json()["rows"]}


def test_usage_by_agent_equals_what_the_clients_were_told(proxy: str, ledger: Any) -> None:
    agent = f"agent:usage-{uuid.uuid4().hex[:8]}"
    prompt = completion = 0
    cost = Decimal(0)
    for index in range(12):
        model = "gpt" if index % 3 else "fallback"
        response = call(proxy, body(agent=agent, model=model, text=f"q{index}"))
        usage = response.json()["usage"]
        prompt += usage["prompt_tokens"]
        completion += usage["completion_tokens"]
        cost += Decimal(response.headers["x-daarion-cost-usd"])
        [event] = events_of(ledger, response.headers["x-request-id"])
        assert (event.prompt_tokens, event.completion_tokens) == (usage["prompt_tokens"], usage["completion_tokens"])
    call(proxy, body(agent=agent, model="all-fail"))
    row = usage_rows(proxy, "agent")[agent]
    assert (row["llm_calls"], row["llm_failures"]) == (13, 1)
    assert (row["prompt_tokens"], row["completion_tokens"]) == (prompt, completion)
    assert Decimal(row["cost_usd"]) == cost.quantize(Decimal("0.000001"))
    by_model = usage_rows(proxy, "model")
    assert "fallback -> deepseek/ok-deepseek" in by_model and "gpt -> openai/ok-gpt" in by_model


def test_an_unpriced_model_is_flagged_not_counted_as_free(proxy: str, ledger: Any) -> None:
    agent = f"agent:unpriced-{uuid.uuid4().hex[:8]}"
    response = call(proxy, body(agent=agent, model="unpriced"))
    assert response.headers["x-daarion-cost-usd"] == "unknown"
    [event] = events_of(ledger, response.headers["x-request-id"])
    assert event.cost_usd is None and event.cost_known is False
    assert usage_rows(proxy, "agent")[agent]["unpriced_calls"] == 1


def test_rebuilding_the_projection_from_zero_gives_identical_totals(proxy: str, ledger: Any) -> None:
    for group_by in ("agent", "day"):
        usage_rows(proxy, group_by)
    before = {g: usage_rows(proxy, g) for g in ("agent", "microdao", "model", "day", "tool")}
    UsageProjector(ledger).rebuild()
    after = {g: usage_rows(proxy, g) for g in ("agent", "microdao", "model", "day", "tool")}
    assert before == after
    assert before["agent"]


def test_usage_rejects_an_unknown_grouping_and_reversed_dates(proxy: str) -> None:
    operator = bearer(operator_key())
    bad = httpx.get(proxy + "/internal/usage", params={"group_by": "planet"}, headers=operator)
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request"
    reversed_ = httpx.get(proxy + "/internal/usage", params={"from": "2026-11-20", "to": "2026-11-01"},
                          headers=operator)
    assert reversed_.status_code == 400
    assert httpx.get(proxy + "/internal/usage", params={"from": "yesterday"}, headers=operator).status_code == 400
