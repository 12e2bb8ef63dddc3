"""A local OTLP/HTTP trace collector for benchmarks: takes POST /v1/traces, counts the spans, answers
GET /stats with {"exports", "spans", "bytes"}. Runs in its own process."""

from __future__ import annotations

import argparse
import json
from typing import Any

import uvicorn
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

stats = {"exports": 0, "spans": 0, "bytes": 0}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    answer = b""
    if scope["path"] == "/v1/traces":
        export = ExportTraceServiceRequest.FromString(body)
        stats["exports"] += 1
        stats["bytes"] += len(body)
        stats["spans"] += sum(len(s.spans) for r in export.resource_spans for s in r.scope_spans)
    else:
        answer = json.dumps(stats).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": answer})


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
