"""Pricing, routing, token estimates and the usage fold, without I/O."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.kernel.errors import UnknownModel
from domain.kernel.usage import Usage
from domain.ledger.events import LlmCallCompleted, LlmCallFailed, ToolInvoked, new_entry
from domain.ledger.projections import UsageKey, fold_usage
from domain.llm.policies import (
    MAX_TOKENS_CAP,
    ChatRequest,
    LimitPolicy,
    Price,
    PriceTable,
    ProviderError,
    RateLimit,
    Router,
    Target,
    estimate_prompt_tokens,
    prompt_token_bound,
)


def test_cost_is_priced_per_million_tokens_and_unknown_models_cost_none() -> None:
    prices = PriceTable({"m": Price(Decimal("0.40"), Decimal("1.60"))})
    assert prices.cost("m", Usage(1_000_000, 500_000)) == Decimal("1.2")
    assert prices.cost("m", Usage(3, 7)) == Decimal("0.0000124")
    assert prices.cost("other", Usage(10, 10)) is None


def test_an_unknown_logical_model_raises_unknown_model() -> None:
    router = Router({"a": [Target("p", "m")]})
    assert router.targets_for("a") == [Target("p", "m")]
    with pytest.raises(UnknownModel):
        router.targets_for("b")


@pytest.mark.parametrize("kind, falls_back", [
    ("connect", True), ("timeout", True), ("server_error", True), ("rate_limited", True),
    ("not_configured", True), ("rejected", False), ("stream_broken", False),
])
def test_only_failures_not_caused_by_the_request_fall_back(kind: str, falls_back: bool) -> None:
    assert ProviderError(kind, "x").may_fall_back is falls_back


def test_the_prompt_estimate_grows_with_the_prompt_and_the_tools() -> None:
    short = ChatRequest([{"role": "user", "content": "hi"}])
    long = ChatRequest([{"role": "user", "content": "hi " * 400}])
    tools = ChatRequest([{"role": "user", "content": "hi"}], tools=[{"type": "function", "function": {"name": "x" * 400}}])
    assert estimate_prompt_tokens(short) < estimate_prompt_tokens(tools)
    assert estimate_prompt_tokens(long) >= 300


def llm_event(event_class: type, agent: str, tokens: int, cost: str | None) -> object:
    entry = new_entry(event_class, request_id="r", agent_id=agent, microdao_id="microdao:7", logical_model="gpt",
                      provider="openai", physical_model="gpt-x", prompt_tokens=tokens, completion_tokens=1,
                      latency_ms=10.0, cost_usd=Decimal(cost) if cost else None, cost_known=cost is not None,
                      status="completed", error_type=None, stream=False)
    return entry.collect_events()[0]


def test_the_usage_fold_sums_per_day_agent_and_model_and_counts_failures_and_unpriced_calls() -> None:
    events = [llm_event(LlmCallCompleted, "agent:a", 10, "0.5"), llm_event(LlmCallCompleted, "agent:a", 5, None),
              llm_event(LlmCallFailed, "agent:a", 0, None), llm_event(LlmCallCompleted, "agent:b", 1, "1")]
    tool = new_entry(ToolInvoked, request_id="r", tool_id="projects.list", agent_id="agent:a",
                     microdao_id="microdao:7", status="denied", error_type="permission_denied", latency_ms=1.0,
                     argument_bytes=12).collect_events()[0]
    totals = fold_usage([*events, tool])
    today = events[0].timestamp.date()  # type: ignore[attr-defined]
    a = totals[UsageKey(today, "llm", "agent:a", "microdao:7", "gpt", "openai", "gpt-x")]
    assert (a.calls, a.failures, a.prompt_tokens, a.completion_tokens) == (3, 1, 15, 3)
    assert (a.cost_usd, a.unpriced_calls) == (Decimal("0.5"), 2)
    denied = totals[UsageKey(today, "tool", "agent:a", "microdao:7", "projects.list")]
    assert (denied.calls, denied.failures, denied.bytes) == (1, 1, 12)
    assert isinstance(today, date) and len(totals) == 3
    assert uuid.UUID(str(events[0].originator_id))  # type: ignore[attr-defined]


@pytest.mark.parametrize("messages", [
    [{"role": "user", "content": "hello"}],
    [{"role": "system", "content": "Ти — Софія."}, {"role": "user", "content": "Що нового в проєкті X? 🚀"}],
    [{"role": "user", "content": [{"type": "text", "text": "what is this?"},
                                  {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}],
    [{"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "{}"}}]},
     {"role": "tool", "content": "{\"ok\": true}", "tool_call_id": "c1"}],
])
def test_the_prompt_bound_is_never_below_the_estimate_nor_the_utf8_bytes(messages: list[dict[str, Any]]) -> None:
    request = ChatRequest(messages=messages, tools=[{"type": "function", "function": {"name": "f"}}])
    bound = prompt_token_bound(request)
    assert bound >= estimate_prompt_tokens(request)
    assert bound >= sum(len(m["content"].encode()) for m in messages if isinstance(m["content"], str))


def test_an_image_raises_the_prompt_bound_by_an_image_s_worth_of_tokens() -> None:
    text = {"type": "text", "text": "what is this?"}
    image = {"type": "image_url", "image_url": {"url": "https://x/y.png"}}
    alone = prompt_token_bound(ChatRequest(messages=[{"role": "user", "content": [text]}]))
    assert prompt_token_bound(ChatRequest(messages=[{"role": "user", "content": [text, image]}])) >= alone + 2_000


def test_the_worst_cost_is_that_of_the_dearest_priced_target() -> None:
    prices = PriceTable({"cheap": Price(Decimal(1), Decimal(1)), "dear": Price(Decimal(3), Decimal(10))})
    targets = [Target("p", "cheap"), Target("p", "dear"), Target("p", "unpriced")]
    assert prices.worst_cost(targets, Usage(1_000, 100)) == Decimal("0.004")
    assert prices.worst_cost([Target("p", "unpriced")], Usage(1_000, 100)) == 0


def test_an_agent_s_max_tokens_cap_is_its_own_else_the_default_s_else_the_built_in_cap() -> None:
    policy = LimitPolicy(RateLimit(max_tokens=2048), {"own": RateLimit(max_tokens=64), "inherits": RateLimit(10)})
    assert [policy.for_agent(a).max_tokens for a in ("own", "inherits", "anyone")] == [64, 2048, 2048]
    assert policy.for_agent("inherits").requests_per_minute == 10
    assert LimitPolicy(RateLimit(), {}).for_agent("anyone").max_tokens == MAX_TOKENS_CAP
