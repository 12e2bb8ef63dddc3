"""OpenTelemetry for one service: its tracer, or none at all.

Tracing is on when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set: the service
gets its own SDK TracerProvider (resource `service.name` = "daarion-<service>", so services sharing a process
still tell apart) exporting over OTLP/HTTP in batches; the exporter reads the other OTEL_* variables itself
(OTEL_EXPORTER_OTLP_HEADERS for a collector's key, OTEL_TRACES_SAMPLER ...). A program that installed an SDK
TracerProvider of its own (a test with an in-memory exporter) has it used instead. OTEL_SDK_DISABLED=true turns
it off.

A failed span says how it failed by `error.type` (a domain error's type, a provider error's kind, else the
exception's class) and an error status, never by the exception's message or stack: messages may quote what an
upstream answered, and traces often go to a hosted backend.

Off means no cost, not a cheap no-op: no SDK provider is built, no middleware is installed, no adapter is
wrapped and no aiohttp hook is added, so a request runs exactly the code it ran before tracing existed
(bench/tracing_overhead.py measures both ways). Only `span()` is called unconditionally, at a few use-case edges,
and off it hands back one shared no-op context.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import TypeVar

import aiohttp
import httpx
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer, TracerProvider
from opentelemetry.util.types import AttributeValue

from infra.platform.http_tracing import aiohttp_spans, aiohttp_traceparent, inject_traceparent
from infra.platform.settings import env

_ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_NO_SPAN = contextlib.nullcontext(trace.INVALID_SPAN)
T = TypeVar("T")

__all__ = ["OFF", "Tracing", "active", "made_in", "mark_failed", "service_tracing"]


class Tracing:
    """A service's tracer (None: off). Adapters are wrapped only when `on`; HTTP clients take `aiohttp` (client
    spans and traceparent), `aiohttp_traceparent` or `httpx_hooks` (the current span's traceparent only), all
    empty when off."""

    def __init__(self, provider: TracerProvider | None, scope: str = "daarion", owned: bool = False) -> None:
        self._provider = provider
        self._owned = owned
        self.tracer: Tracer = provider.get_tracer(scope) if provider is not None else trace.NoOpTracer()
        self.aiohttp: list[aiohttp.TraceConfig] = [aiohttp_spans(self.tracer)] if provider is not None else []
        self.aiohttp_traceparent: list[aiohttp.TraceConfig] = [aiohttp_traceparent()] if provider is not None else []
        self.httpx_hooks: dict[str, list[Callable[[httpx.Request], Awaitable[None]]]] = (
            {"request": [inject_traceparent]} if provider is not None else {})

    @property
    def on(self) -> bool:
        return self._provider is not None

    def span(
        self, name: str, attributes: Mapping[str, AttributeValue] | None = None, kind: SpanKind = SpanKind.INTERNAL,
    ) -> AbstractContextManager[Span]:
        """A current span for the block; an exception leaving it marks it failed (see `active`)."""
        if self._provider is None:
            return _NO_SPAN
        return active(self.tracer.start_span(name, kind=kind, attributes=attributes), end=True)

    def shutdown(self) -> None:
        """Exports what is still queued; a provider installed by someone else is theirs to shut down."""
        if self._owned:
            shutdown = getattr(self._provider, "shutdown", None)
            if shutdown is not None:
                shutdown()


OFF = Tracing(None)


@contextmanager
def active(span: Span, end: bool) -> Iterator[Span]:
    """`span` is current for the block (ended after it when `end`); an exception leaving it marks it failed."""
    with trace.use_span(span, end_on_exit=end, record_exception=False, set_status_on_exception=False):
        try:
            yield span
        except BaseException as exc:
            mark_failed(span, exc)
            raise


async def made_in(span: Span, items: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
    """`items` (none of them None), each made with `span` current, so the calls that make it are the span's
    children; between items the consumer's own context is back. The span ends, and `items` is closed, when this
    is: close it (contextlib.aclosing) rather than leave it to the garbage collector."""
    try:
        while True:
            with active(span, end=False):
                item = await anext(items, None)
            if item is None:
                return
            yield item
    finally:
        await items.aclose()
        span.end()


def mark_failed(span: Span, exc: BaseException) -> None:
    kind = getattr(exc, "kind", None) or getattr(exc, "type", None)
    span.set_attribute("error.type", kind if isinstance(kind, str) else type(exc).__name__)
    span.set_status(Status(StatusCode.ERROR))


def service_tracing(service: str) -> Tracing:
    if (env("OTEL_SDK_DISABLED") or "").strip().lower() == "true":
        return OFF
    scope = f"daarion.{service}"
    if any(env(name) for name in _ENDPOINTS):
        return Tracing(_otlp_provider(f"daarion-{service}"), scope, owned=True)
    installed = trace.get_tracer_provider()
    if isinstance(installed, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        return OFF
    return Tracing(installed, scope)


def _otlp_provider(service_name: str) -> TracerProvider:
    # Imported here: a service that does not trace never loads the SDK or the exporter.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = SdkTracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider
