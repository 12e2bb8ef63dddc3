"""A server span for every HTTP request a service answers, continuing the caller's trace (W3C traceparent).

Installed by build_app only when tracing is on (infra/platform/tracing.py). It wraps Litestar's handler, past the
edge's URL checks and around routing and the exception handlers, so the span sees the status the client got and
the route template (`POST /internal/agents/{agent_id}/messages`, not the agent's id). Recorded: method,
route, path, status and the request id (which finds the call's ledger entries); never a header or the query.
Health, readiness and metrics scrapes get no span: they would bury the traces worth reading.
"""

from __future__ import annotations

from typing import cast

from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from opentelemetry.util.types import AttributeValue

from infra.platform.tracing import active

_CARRIED = frozenset((b"traceparent", b"tracestate", b"baggage"))
_UNTRACED = frozenset(("/healthz", "/readyz", "/metrics"))


class ServerSpans:
    def __init__(self, app: ASGIApp, tracer: Tracer) -> None:
        self._app = app
        self._tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _UNTRACED:
            await self._app(scope, receive, send)
            return
        carrier = {name.decode("latin-1"): value.decode("latin-1")
                   for name, value in scope["headers"] if name in _CARRIED}
        method = cast("HTTPScope", scope)["method"]
        attributes: dict[str, AttributeValue] = {"http.request.method": method, "url.path": scope["path"],
                                                 "url.scheme": scope["scheme"]}
        span = self._tracer.start_span(method, context=propagate.extract(carrier), kind=SpanKind.SERVER,
                                       attributes=attributes)
        with active(span, end=True):
            status = 500  # what a client sees when the app fails before it answers

            async def traced_send(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await self._app(scope, receive, traced_send)
            finally:
                route = scope.get("path_template")
                if route:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                request_id = scope.get("state", {}).get("request_id")
                if request_id:
                    span.set_attribute("daarion.request_id", str(request_id))
                if status >= 500:  # a 4xx is the client's error, not the server's (HTTP conventions)
                    span.set_status(Status(StatusCode.ERROR))
                    span.set_attribute("error.type", str(status))
