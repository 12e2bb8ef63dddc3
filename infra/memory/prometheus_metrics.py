"""Prometheus metrics of the memory service, on a registry of its own (one per app instance)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from domain.memory.queue import BatchReport, QueueStats

_LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.02, 0.035, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class MemoryMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.backlog = Gauge("memory_index_backlog", "Indexing jobs not done yet (dead letters excluded)",
                             ["model"], registry=registry)
        self.backlog_age = Gauge("memory_index_backlog_age_seconds", "Age of the oldest job not done yet",
                                 ["model"], registry=registry)
        self.in_flight = Gauge("memory_index_in_flight", "Jobs claimed by a worker right now", ["model"],
                               registry=registry)
        self.dead_letters = Gauge("memory_index_dead_letters", "Jobs given up after max_attempts", ["model"],
                                  registry=registry)
        self.indexed = Counter("memory_indexed_items_total", "Items embedded by this process's workers",
                               ["model"], registry=registry)
        self.index_failures = Counter("memory_index_failures_total", "Failed indexing attempts", ["model"],
                                      registry=registry)
        self.batch_seconds = Histogram("memory_index_batch_seconds", "Claim-embed-write time of one batch",
                                       buckets=_LATENCY_BUCKETS, registry=registry)
        self.writes = Counter("memory_writes_total", "Writes by operation and outcome", ["operation", "outcome"],
                              registry=registry)
        self.query_seconds = Histogram("memory_query_seconds", "Query latency, query embedding included",
                                       buckets=_LATENCY_BUCKETS, registry=registry)
        self._models: set[str] = set()

    def batch_done(self, model: str, report: BatchReport) -> None:
        if report.claimed:
            self.indexed.labels(model).inc(report.indexed)
            self.index_failures.labels(model).inc(report.failed)
            self.batch_seconds.observe(report.seconds)

    def queue_seen(self, stats: list[QueueStats], serving_model: str) -> None:
        """The serving model always has its gauges (0 when its queue is empty), other models while they have jobs."""
        self._models.add(serving_model)
        seen = {entry.model for entry in stats}
        for model in self._models - seen:  # a model whose queue drained completely reads 0, not stale
            for gauge in (self.backlog, self.backlog_age, self.in_flight, self.dead_letters):
                gauge.labels(model).set(0)
        self._models |= seen
        for entry in stats:
            self.backlog.labels(entry.model).set(entry.pending)
            self.backlog_age.labels(entry.model).set(entry.oldest_pending_age_seconds)
            self.in_flight.labels(entry.model).set(entry.in_flight)
            self.dead_letters.labels(entry.model).set(entry.dead)
