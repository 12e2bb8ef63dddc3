"""With OTEL_EXPORTER_OTLP_ENDPOINT set, a service exports its spans over OTLP/HTTP to that collector, under its
own service name, continuing the trace its caller started."""

from __future__ import annotations

import httpx
import pytest

from apps.projects.app import create_app as create_projects
from tests.fakes.otlp_sink import OtlpSink
from tests.support import bearer, issue_key, serve_in_thread

TRACE_ID, PARENT_ID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


def test_a_service_exports_its_server_spans_to_the_otlp_endpoint_continuing_the_callers_trace(
    database_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = issue_key(database_url, "agent:sofia", "microdao:7")
    sink = OtlpSink()
    with serve_in_thread(sink) as collector:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector)
        with serve_in_thread(create_projects()) as projects:
            response = httpx.get(f"{projects}/microdaos/microdao:7/projects", timeout=30,
                                 headers={**bearer(key), "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"})
            assert response.status_code == 200
            assert httpx.get(f"{projects}/readyz", timeout=30).status_code == 200
            assert not sink.exports  # batched: nothing is sent per request
        # the app's shutdown exported what was queued

    [(service, span)] = sink.spans()  # the readiness probe has none
    assert span.name == "GET /microdaos/{microdao_id}/projects"
    assert service == "daarion-projects"
    assert (span.trace_id.hex(), span.parent_span_id.hex()) == (TRACE_ID, PARENT_ID)
    attributes = {a.key: a.value for a in span.attributes}
    assert attributes["http.response.status_code"].int_value == 200
    assert attributes["url.path"].string_value == "/microdaos/microdao:7/projects"
    assert key not in str(sink.exports)
