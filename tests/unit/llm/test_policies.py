"""Pricing, routing, token estimates and the usage fold, without I/O."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from domain.kernel.errors import UnknownModel
from domain.kernel.usage import Usage
from domain.ledger.events import LlmCallCompleted, LlmCallFailed, ToolInvoked, new_entry
from domain.ledger.projections import UsageKey, fold_usage
from domain.llm.policies import (
    ChatRequest,
    Price,
    PriceTable,
    ProviderError,
    Router,
    Target,
    estimate_prompt_tokens,
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
