"""Prometheus metrics of the LLM proxy, on a registry of its own (one per app instance).

Label values are bounded, never taken from requests as they come: the agent is the one the caller's key
belongs to (a registered agent; a request naming another is refused before any figure). Models are the configured logical models (routing refuses
others before any figure), providers and error kinds are the configured providers and the adapters'
fixed kinds, endpoints and statuses are the proxy's own.
"""

from __future__ import annotations

from decimal import Decimal

from prometheus_client import CollectorRegistry, Counter, Histogram

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class ProxyMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter("llm_proxy_requests_total", "Requests by endpoint and status",
                                ["endpoint", "status"], registry=registry)
        self.latency = Histogram("llm_proxy_request_seconds", "Request latency", ["endpoint"],
                                 buckets=_LATENCY_BUCKETS, registry=registry)
        self.overhead = Histogram("llm_proxy_overhead_seconds", "Time spent in the proxy itself",
                                  buckets=_LATENCY_BUCKETS, registry=registry)
        self.tokens = Counter("llm_proxy_tokens_total", "Tokens by agent, model and direction",
                              ["agent_id", "model", "direction"], registry=registry)
        self.cost = Counter("llm_proxy_cost_usd_total", "Cost in USD by agent and model",
                            ["agent_id", "model"], registry=registry)
        self.calls = Counter("llm_proxy_calls_total", "Finished LLM calls by status",
                             ["agent_id", "model", "status"], registry=registry)
        self.provider_errors = Counter("llm_proxy_provider_errors_total", "Provider failures by kind",
                                       ["provider", "kind"], registry=registry)
        self.fallbacks = Counter("llm_proxy_fallbacks_total", "Fallbacks away from a provider",
                                 ["provider"], registry=registry)

    def provider_error(self, provider: str, kind: str) -> None:
        self.provider_errors.labels(provider, kind).inc()

    def fallback(self, from_provider: str) -> None:
        self.fallbacks.labels(from_provider).inc()

    def call_finished(self, agent_id: str, logical_model: str, status: str, prompt_tokens: int,
                      completion_tokens: int, cost_usd: Decimal | None) -> None:
        self.calls.labels(agent_id, logical_model, status).inc()
        self.tokens.labels(agent_id, logical_model, "prompt").inc(prompt_tokens)
        self.tokens.labels(agent_id, logical_model, "completion").inc(completion_tokens)
        if cost_usd:
            self.cost.labels(agent_id, logical_model).inc(float(cost_usd))

    def observe_request(self, endpoint: str, status: int, seconds: float, overhead_s: float | None) -> None:
        self.requests.labels(endpoint, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)
        if overhead_s is not None:
            self.overhead.observe(overhead_s)
