"""When tracing is on, and that off it installs nothing: no SDK provider, no middleware."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan

from apps.common.tracing import ServerSpans
from apps.projects.app import create_app as create_projects
from infra.platform.tracing import OFF, service_tracing
from tests.tracing_support import collected_spans


@pytest.fixture(autouse=True)
def no_otel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)


def test_without_an_endpoint_a_service_builds_no_tracer_provider_and_no_middleware() -> None:
    app = create_projects()

    assert service_tracing("projects") is OFF
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    assert not isinstance(app.asgi_handler, ServerSpans)


def test_an_otlp_endpoint_gives_each_service_its_own_provider_named_after_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    tracing, other = service_tracing("memory"), service_tracing("toolcore")
    try:
        with tracing.span("probe") as span, other.span("probe") as other_span:
            assert isinstance(span, ReadableSpan) and isinstance(other_span, ReadableSpan)
            assert span.resource.attributes["service.name"] == "daarion-memory"
            assert other_span.resource.attributes["service.name"] == "daarion-toolcore"
    finally:
        tracing.shutdown()
        other.shutdown()
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)  # the process's global is untouched


def test_otel_sdk_disabled_wins_over_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")

    assert service_tracing("memory") is OFF


def test_a_provider_the_program_installed_is_used_and_left_for_it_to_shut_down() -> None:
    with collected_spans() as exporter:
        tracing = service_tracing("llm-proxy")
        with tracing.span("probe"):
            pass
        tracing.shutdown()
        with tracing.span("after"):
            pass
    assert [(s.name, s.instrumentation_scope.name if s.instrumentation_scope else "")
            for s in exporter.get_finished_spans()] == [("probe", "daarion.llm-proxy"), ("after", "daarion.llm-proxy")]
