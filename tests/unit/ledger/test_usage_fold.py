"""The usage fold is exact: however a rebuild batches the events, the totals come out the same."""

from __future__ import annotations

from decimal import Decimal

from domain.ledger.events import LlmCallCompleted, new_entry
from domain.ledger.projections import UsageCounters, fold_usage


def call(latency_ms: float) -> LlmCallCompleted:
    entry = new_entry(LlmCallCompleted, request_id="req", agent_id="agent:fold", microdao_id="microdao:7",
                      logical_model="gpt", provider="openai", physical_model="gpt-4.1-mini", prompt_tokens=1,
                      completion_tokens=1, latency_ms=latency_ms, cost_usd=Decimal("0.1"), cost_known=True,
                      status="completed", error_type=None, stream=False)
    [event] = entry.collect_events()
    assert isinstance(event, LlmCallCompleted)
    return event


def batched_total(batches: list[list[LlmCallCompleted]]) -> UsageCounters:
    total = UsageCounters()
    for batch in batches:
        for counters in fold_usage(batch).values():
            total.add(counters)
    return total


def test_latencies_sum_to_the_same_total_in_any_order_and_batching() -> None:
    a, b, c = call(0.1), call(0.2), call(0.3)  # as floats, (0.1 + 0.2) + 0.3 != (0.3 + 0.2) + 0.1
    one_batch = batched_total([[a, b, c]])
    reversed_in_two = batched_total([[c, b], [a]])
    assert one_batch.latency_ms_sum == reversed_in_two.latency_ms_sum == Decimal("0.600")
