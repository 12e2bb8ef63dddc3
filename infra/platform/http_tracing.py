"""Client spans for aiohttp, and the W3C `traceparent` that carries the trace to the next service; or the
traceparent alone, where the caller's span already stands for the call (the proxy's GenAI `chat` spans are the
client spans of the provider calls: a second span per call would cost as much again, bench/tracing_overhead.py).

One hook set serves every aiohttp session of the services (the agent runtime's calls, the proxy's providers,
Toolcore's HTTP tools), added only when tracing is on. What a span records: the method, where the request
went (scheme, host, port and path: no query, which may carry a tool's arguments, and no user info) and the
status. Never a header: the bearer keys and provider keys travel in them. The span ends when the response's
head arrives (aiohttp's last hook), so a streamed body's time belongs to the caller's span.
"""

from __future__ import annotations

from types import SimpleNamespace

import aiohttp
import httpx
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from yarl import URL

__all__ = ["aiohttp_spans", "aiohttp_traceparent", "inject_traceparent", "url_attributes"]


def aiohttp_spans(tracer: Tracer) -> aiohttp.TraceConfig:
    config = aiohttp.TraceConfig()

    async def started(session: aiohttp.ClientSession, ctx: SimpleNamespace,
                      params: aiohttp.TraceRequestStartParams) -> None:
        span = tracer.start_span(params.method, kind=SpanKind.CLIENT,
                                 attributes={"http.request.method": params.method, **url_attributes(params.url)})
        ctx.span = span
        propagate.inject(params.headers, context=trace.set_span_in_context(span))

    async def ended(session: aiohttp.ClientSession, ctx: SimpleNamespace,
                    params: aiohttp.TraceRequestEndParams) -> None:
        status = params.response.status
        ctx.span.set_attribute("http.response.status_code", status)
        if status >= 400:
            ctx.span.set_attributes({"error.type": str(status)})
            ctx.span.set_status(Status(StatusCode.ERROR))
        ctx.span.end()

    async def failed(session: aiohttp.ClientSession, ctx: SimpleNamespace,
                     params: aiohttp.TraceRequestExceptionParams) -> None:
        ctx.span.set_attribute("error.type", type(params.exception).__name__)
        ctx.span.set_status(Status(StatusCode.ERROR))
        ctx.span.end()

    config.on_request_start.append(started)
    config.on_request_end.append(ended)
    config.on_request_exception.append(failed)
    return config


def aiohttp_traceparent() -> aiohttp.TraceConfig:
    config = aiohttp.TraceConfig()

    async def started(session: aiohttp.ClientSession, ctx: SimpleNamespace,
                      params: aiohttp.TraceRequestStartParams) -> None:
        propagate.inject(params.headers)

    config.on_request_start.append(started)
    return config


async def inject_traceparent(request: httpx.Request) -> None:
    """An httpx request hook: the current span's context goes with the request."""
    propagate.inject(request.headers)


def url_attributes(url: URL) -> dict[str, str | int]:
    attributes: dict[str, str | int] = {"url.full": str(url.with_user(None).with_query(None).with_fragment(None))}
    if url.host:
        attributes["server.address"] = url.host
    if url.port:
        attributes["server.port"] = url.port
    return attributes
