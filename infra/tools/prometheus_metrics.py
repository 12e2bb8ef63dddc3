"""Prometheus metrics of Toolcore, on a registry of its own (one per app instance).

Labels carry tool ids only for registered tools (unknown ids become "unknown"), never agent ids or
arguments, so an agent cannot grow the label space; and only calls of authenticated agents are counted
(a request without a valid key, scope or identity is refused before the service sees it).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from domain.kernel.tool_calls import ToolCallStatus

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class ToolcoreMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter("toolcore_calls_total", "Tool calls by tool and status "
                             "(succeeded, failed, denied, invalid)", ["tool", "status"], registry=registry)
        self.latency = Histogram("toolcore_call_seconds", "Tool call latency, validation to record",
                                 ["tool"], buckets=_LATENCY_BUCKETS, registry=registry)
        self.errors = Counter("toolcore_errors_total", "Calls that did not succeed, by tool and error type",
                              ["tool", "type"], registry=registry)
        self.denials = Counter("toolcore_denials_total", "Calls refused by the permission policy",
                               ["tool"], registry=registry)

    def call_finished(self, tool_id: str, status: str, error_type: str | None, latency_s: float) -> None:
        self.calls.labels(tool_id, status).inc()
        self.latency.labels(tool_id).observe(latency_s)
        if error_type is not None:
            self.errors.labels(tool_id, error_type).inc()
        if status == ToolCallStatus.DENIED:
            self.denials.labels(tool_id).inc()
