"""An EmbeddingProvider seen through OpenTelemetry: every attempt on a target is one GenAI `embeddings {model}`
span, as TracedChatProvider makes a `chat {model}` span of each chat attempt (a fallback is a failed span, then the
next target's; the span is the client span of the call, whose context the HTTP providers send upstream).

Tokens are the ones the target reported (none when it does not say: the ledger's bound for them is the gateway's
business), priced as the ledger prices them; the texts and the vectors are never recorded.
"""

from __future__ import annotations

from opentelemetry.trace import SpanKind, Tracer
from opentelemetry.util.types import AttributeValue

from domain.kernel.usage import Usage
from domain.llm.policies import PriceTable
from domain.llm.ports import Embedded, EmbeddingProvider
from infra.platform import gen_ai
from infra.platform.tracing import active


class TracedEmbeddingProvider:
    def __init__(self, inner: EmbeddingProvider, kind: str, prices: PriceTable, tracer: Tracer) -> None:
        """`kind` (openai, openai_compatible, ollama, minilm) is the span's provider name."""
        self.name = inner.name
        self._inner = inner
        self._kind = kind
        self._prices = prices
        self._tracer = tracer

    async def embed(self, model: str, texts: list[str], dimensions: int | None, timeout_s: float) -> Embedded:
        attributes: dict[str, AttributeValue] = {gen_ai.OPERATION: "embeddings", gen_ai.PROVIDER: self._kind,
                                                 gen_ai.REQUEST_MODEL: model, "daarion.provider": self.name}
        if dimensions is not None:
            attributes[gen_ai.EMBEDDINGS_DIMENSIONS] = dimensions
        span = self._tracer.start_span(f"embeddings {model}", kind=SpanKind.CLIENT, attributes=attributes)
        with active(span, end=True):  # a ProviderError's kind is the span's error.type
            result = await self._inner.embed(model, texts, dimensions, timeout_s)
            span.set_attribute(gen_ai.RESPONSE_MODEL, model)
            if result.vectors:
                span.set_attribute(gen_ai.EMBEDDINGS_DIMENSIONS, len(result.vectors[0]))
            if result.prompt_tokens is not None:
                cost = self._prices.cost(model, Usage(result.prompt_tokens, 0))
                span.set_attributes(gen_ai.usage_attributes(result.prompt_tokens, None, cost))
            return result

    async def aclose(self) -> None:
        await self._inner.aclose()
