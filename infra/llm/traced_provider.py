"""A ChatProvider seen through OpenTelemetry: every attempt on a target is one GenAI `chat {model}` span.

A fallback shows as a failed span (error.type = the ProviderError's kind) followed by the next target's. The
tokens are the ones the provider reported and the cost is the proxy's price for them (PriceTable.cost, the figure
the ledger records for the same call). A stream that reported no usage gets none here: the ledger's estimate for
it is the gateway's business. The span is the client span of the call to the upstream: its context goes there in
`traceparent` (infra/platform/http_tracing.py), with no HTTP span of its own.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

from opentelemetry.trace import Span, SpanKind, Tracer
from opentelemetry.util.types import AttributeValue

from domain.kernel.usage import Usage
from domain.llm.policies import ChatChunk, ChatRequest, ChatResult, PriceTable
from domain.llm.ports import ChatProvider
from infra.platform import gen_ai
from infra.platform.tracing import active, made_in


class TracedChatProvider:
    def __init__(self, inner: ChatProvider, kind: str, prices: PriceTable, tracer: Tracer) -> None:
        """`kind` (openai, deepseek, ollama, llama_cpp, openai_compatible, stub) is the span's provider name."""
        self.name = inner.name
        self._inner = inner
        self._kind = kind
        self._prices = prices
        self._tracer = tracer

    async def complete(self, model: str, request: ChatRequest, timeout_s: float) -> ChatResult:
        span = self._tracer.start_span(f"chat {model}", kind=SpanKind.CLIENT, attributes=self._asked(model, request))
        with active(span, end=True):  # a ProviderError's kind is the span's error.type
            result = await self._inner.complete(model, request, timeout_s)
            span.set_attribute(gen_ai.FINISH_REASONS, [result.finish_reason])
            self._answered(span, model, result.usage)
            return result

    async def stream(self, model: str, request: ChatRequest, timeout_s: float) -> AsyncGenerator[ChatChunk, None]:
        span = self._tracer.start_span(f"chat {model}", kind=SpanKind.CLIENT, attributes=self._asked(model, request))
        async with aclosing(made_in(span, self._inner.stream(model, request, timeout_s))) as chunks:
            async for chunk in chunks:
                if chunk.finish_reason:
                    span.set_attribute(gen_ai.FINISH_REASONS, [chunk.finish_reason])
                if chunk.usage is not None:
                    self._answered(span, model, chunk.usage)
                yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()

    def _asked(self, model: str, request: ChatRequest) -> dict[str, AttributeValue]:
        attributes: dict[str, AttributeValue] = {gen_ai.OPERATION: "chat", gen_ai.PROVIDER: self._kind,
                                                 gen_ai.REQUEST_MODEL: model, "daarion.provider": self.name}
        if request.max_tokens is not None:
            attributes[gen_ai.REQUEST_MAX_TOKENS] = request.max_tokens
        if request.temperature is not None:
            attributes[gen_ai.REQUEST_TEMPERATURE] = request.temperature
        return attributes

    def _answered(self, span: Span, model: str, usage: Usage) -> None:
        span.set_attribute(gen_ai.RESPONSE_MODEL, model)
        span.set_attributes(gen_ai.usage_attributes(usage.prompt_tokens, usage.completion_tokens,
                                                    self._prices.cost(model, usage)))
