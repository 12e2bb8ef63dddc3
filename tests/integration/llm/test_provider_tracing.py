"""Each attempt on a provider is a GenAI `chat {model}` (or `embeddings {model}`) span, the client span of the call:
its context travels to the upstream in `traceparent` (from the aiohttp providers and from Ollama's httpx client
alike)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from domain.kernel.usage import Usage
from domain.llm.policies import ChatRequest, Price, PriceTable, ProviderError
from infra.llm.providers.ollama import OllamaProvider
from infra.llm.providers.openai_compatible import OpenAICompatibleProvider
from infra.llm.traced_embeddings import TracedEmbeddingProvider
from infra.llm.traced_provider import TracedChatProvider
from infra.platform.tracing import Tracing, service_tracing
from tests.fakes.llm_servers import FakeOllama, FakeOpenAI
from tests.proxy_support import UPSTREAM_KEY
from tests.tracing_support import collected_spans

PRICES = PriceTable({"ok-1": Price(Decimal("0.4"), Decimal("1.6")), "llama3": Price(Decimal(1), Decimal(2)),
                     "embed-small": Price(Decimal("0.02"), Decimal(0))})
HELLO = ChatRequest(messages=[{"role": "user", "content": "hello"}], max_tokens=50)


@pytest.fixture()
def traced() -> Iterator[tuple[Tracing, InMemorySpanExporter]]:
    with collected_spans() as spans:
        yield service_tracing("llm-proxy"), spans


def traceparent(span: ReadableSpan) -> str:
    return f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-{span.context.trace_flags:02x}"


async def test_an_openai_compatible_call_is_a_client_chat_span_whose_traceparent_reached_the_upstream(
    traced: tuple[Tracing, InMemorySpanExporter], fake_openai: tuple[FakeOpenAI, str],
) -> None:
    tracing, spans = traced
    fake, base = fake_openai
    inner = OpenAICompatibleProvider("upstream", base, UPSTREAM_KEY, trace_configs=tracing.aiohttp_traceparent)
    provider = TracedChatProvider(inner, "openai_compatible", PRICES, tracing.tracer)
    try:
        result = await provider.complete("ok-1", HELLO, 5.0)
    finally:
        await provider.aclose()

    chat, = spans.get_finished_spans()
    assert chat.kind == SpanKind.CLIENT
    assert fake.requests[-1]["headers"]["traceparent"] == traceparent(chat)
    assert dict(chat.attributes or {}) == {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai_compatible", "gen_ai.request.model": "ok-1",
        "gen_ai.request.max_tokens": 50, "daarion.provider": "upstream", "gen_ai.response.model": "ok-1",
        "gen_ai.response.finish_reasons": ("stop",), "gen_ai.usage.input_tokens": result.usage.prompt_tokens,
        "gen_ai.usage.output_tokens": result.usage.completion_tokens,
        "gen_ai.usage.cost.amount": float(PRICES.cost("ok-1", result.usage) or 0), "gen_ai.usage.cost.currency": "USD"}
    assert UPSTREAM_KEY not in str(chat.attributes) and "authorization" not in str(chat.attributes).lower()


async def test_a_failed_attempt_is_a_failed_chat_span_with_the_errors_kind(
    traced: tuple[Tracing, InMemorySpanExporter], fake_openai: tuple[FakeOpenAI, str],
) -> None:
    tracing, spans = traced
    provider = TracedChatProvider(OpenAICompatibleProvider("upstream", fake_openai[1], UPSTREAM_KEY,
                                                           trace_configs=tracing.aiohttp_traceparent),
                                  "openai_compatible", PRICES, tracing.tracer)
    try:
        with pytest.raises(ProviderError):
            await provider.complete("fail-500", HELLO, 5.0)
    finally:
        await provider.aclose()

    chat, = (s for s in spans.get_finished_spans() if s.name == "chat fail-500")
    assert chat.status.status_code == StatusCode.ERROR
    assert (chat.attributes or {})["error.type"] == "server_error"
    # the upstream's answer ("upstream exploded") stays out: no exception event, no status message
    assert not chat.events and chat.status.description is None
    assert "gen_ai.usage.input_tokens" not in (chat.attributes or {})


async def test_an_ollama_stream_carries_the_chat_spans_traceparent_and_its_final_usage(
    traced: tuple[Tracing, InMemorySpanExporter], fake_ollama: tuple[FakeOllama, str],
) -> None:
    tracing, spans = traced
    fake, base = fake_ollama
    provider = TracedChatProvider(OllamaProvider("ollama", base, tracing.httpx_hooks), "ollama", PRICES,
                                  tracing.tracer)
    chunks = [chunk async for chunk in provider.stream("llama3", HELLO, 5.0)]

    chat, = spans.get_finished_spans()
    assert fake.headers[-1]["traceparent"] == traceparent(chat)
    usage = next(chunk.usage for chunk in chunks if chunk.usage is not None)
    assert usage == Usage(11, 7)
    attributes = chat.attributes or {}
    assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"],
            attributes["gen_ai.usage.cost.amount"]) == (11, 7, float(PRICES.cost("llama3", usage) or 0))


async def test_a_stream_left_after_its_first_chunk_ends_its_chat_span_when_closed(
    traced: tuple[Tracing, InMemorySpanExporter], fake_openai: tuple[FakeOpenAI, str],
) -> None:
    tracing, spans = traced
    provider = TracedChatProvider(OpenAICompatibleProvider("upstream", fake_openai[1], UPSTREAM_KEY,
                                                           trace_configs=tracing.aiohttp_traceparent),
                                  "openai_compatible", PRICES, tracing.tracer)
    try:
        chunks = provider.stream("drip-20", HELLO, 5.0)
        await anext(chunks)
        assert not [s for s in spans.get_finished_spans() if s.name == "chat drip-20"]
        await chunks.aclose()  # as the gateway does when its client leaves
    finally:
        await provider.aclose()

    chat, = (s for s in spans.get_finished_spans() if s.name == "chat drip-20")
    assert chat.status.status_code == StatusCode.UNSET and "gen_ai.usage.input_tokens" not in (chat.attributes or {})


async def test_an_embeddings_call_is_a_client_embeddings_span_with_its_tokens_cost_and_dimensions(
    traced: tuple[Tracing, InMemorySpanExporter], fake_openai: tuple[FakeOpenAI, str],
) -> None:
    tracing, spans = traced
    fake, base = fake_openai
    inner = OpenAICompatibleProvider("upstream", base, UPSTREAM_KEY, trace_configs=tracing.aiohttp_traceparent)
    provider = TracedEmbeddingProvider(inner, "openai_compatible", PRICES, tracing.tracer)
    try:
        result = await provider.embed("embed-small", ["green tea", "black coffee please"], 4, 5.0)
        with pytest.raises(ProviderError):
            await provider.embed("fail-500", ["green tea"], None, 5.0)
    finally:
        await provider.aclose()

    embeddings, failed = spans.get_finished_spans()
    assert embeddings.kind == SpanKind.CLIENT and embeddings.name == "embeddings embed-small"
    assert fake.requests[-2]["headers"]["traceparent"] == traceparent(embeddings)
    assert result.prompt_tokens == 5
    assert dict(embeddings.attributes or {}) == {
        "gen_ai.operation.name": "embeddings", "gen_ai.provider.name": "openai_compatible",
        "gen_ai.request.model": "embed-small", "daarion.provider": "upstream", "gen_ai.response.model": "embed-small",
        "gen_ai.embeddings.dimension.count": 4, "gen_ai.usage.input_tokens": 5,
        "gen_ai.usage.cost.amount": float(PRICES.cost("embed-small", Usage(5, 0)) or 0),
        "gen_ai.usage.cost.currency": "USD"}
    assert "green tea" not in str(embeddings.attributes)
    assert failed.status.status_code == StatusCode.ERROR and (failed.attributes or {})["error.type"] == "server_error"
