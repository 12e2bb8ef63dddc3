"""An SDK TracerProvider with the in-memory exporter, installed as the process's global for one block and
taken away after it (services built inside the block trace into it; those built after it do not trace)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once


@contextmanager
def collected_spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    try:
        yield exporter
    finally:
        provider.shutdown()
        # The API lets a process set its provider once; OpenTelemetry's own test utilities reset it like this.
        trace._TRACER_PROVIDER_SET_ONCE = Once()
        trace._TRACER_PROVIDER = None


def attribute_values(span: ReadableSpan) -> list[str]:
    """Every attribute value of the span and of its events, as text."""
    values = [str(value) for value in (span.attributes or {}).values()]
    for event in span.events:
        values += [str(value) for value in (event.attributes or {}).values()]
    return values
