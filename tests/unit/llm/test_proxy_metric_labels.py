"""The LLM proxy's Prometheus labels stay bounded whatever agent ids internal callers send."""

from __future__ import annotations

import uuid
from decimal import Decimal

from prometheus_client import CollectorRegistry

from infra.llm.prometheus_metrics import ProxyMetrics


def test_calls_of_agents_outside_the_configuration_share_one_unknown_series() -> None:
    registry = CollectorRegistry()
    metrics = ProxyMetrics(registry, known_agents={"agent:sofia"})
    metrics.call_finished("agent:sofia", "gpt", "completed", 10, 2, Decimal("0.01"))
    for _ in range(1000):
        metrics.call_finished(f"agent:{uuid.uuid4().hex}", "gpt", "completed", 10, 2, Decimal("0.01"))

    agents = {sample.labels["agent_id"] for metric in registry.collect()
              if metric.name in ("llm_proxy_calls", "llm_proxy_tokens", "llm_proxy_cost_usd")
              for sample in metric.samples}
    assert agents == {"agent:sofia", "unknown"}
    assert registry.get_sample_value("llm_proxy_calls_total",
                                     {"agent_id": "unknown", "model": "gpt", "status": "completed"}) == 1000
