"""A collector stand-in: takes OTLP/HTTP trace exports (POST /v1/traces, protobuf) and keeps their spans."""

from __future__ import annotations

import gzip
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.fakes.llm_servers import read_body

Scope = dict[str, Any]


class OtlpSink:
    def __init__(self) -> None:
        self.exports: list[ExportTraceServiceRequest] = []

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = await read_body(receive)
        status = 404
        if scope["method"] == "POST" and scope["path"] == "/v1/traces":
            if (b"content-encoding", b"gzip") in scope["headers"]:
                body = gzip.decompress(body)
            self.exports.append(ExportTraceServiceRequest.FromString(body))
            status = 200
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/x-protobuf")]})
        await send({"type": "http.response.body", "body": b""})

    def spans(self) -> list[tuple[str, Span]]:
        """(the exporting service's `service.name`, span) for every span received."""
        found = []
        for export in self.exports:
            for resource_spans in export.resource_spans:
                names = [a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name"]
                for scope_spans in resource_spans.scope_spans:
                    found += [(names[0] if names else "", span) for span in scope_spans.spans]
        return found
