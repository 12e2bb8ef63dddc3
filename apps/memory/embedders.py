"""Builds the configured embedder (the composition root's one decision about embeddings)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from apps.memory.settings import EmbedderSettings, MemorySettings
from domain.memory.ports import Embedder, TokenEncoder
from infra.memory.embedders.e5 import E5Embedder
from infra.memory.embedders.late_interaction import LateInteractionEncoder
from infra.memory.embedders.latent_terms import LatentTermsEncoder
from infra.memory.embedders.minilm import MiniLMEmbedder
from infra.memory.embedders.ollama_embedder import OllamaEmbedder
from infra.memory.embedders.openai_embedder import OpenAIEmbedder
from infra.memory.embedders.proxy_embedder import ProxyEmbedder
from infra.platform.tracing import OFF, Tracing


def build_embedder(settings: EmbedderSettings, tracing: Tracing = OFF) -> Embedder:
    """`tracing`: the HTTP embedders send the current span's traceparent (a query's retrieval span goes on into
    the LLM proxy's /v1/embeddings)."""
    if settings.provider == "ollama":
        return OllamaEmbedder(settings.model, settings.dimensions, settings.base_url or "http://127.0.0.1:11434",
                              settings.batch_size, settings.timeout_s, tracing.httpx_hooks)
    if settings.provider == "proxy":
        return ProxyEmbedder(settings.model, settings.dimensions, settings.base_url or "http://127.0.0.1:7007/v1",
                             os.environ.get(settings.api_key_env), settings.batch_size, settings.timeout_s,
                             settings.send_dimensions, settings.on_behalf, tracing.httpx_hooks)
    if settings.provider == "openai":
        return OpenAIEmbedder(settings.model, settings.dimensions, settings.base_url or "https://api.openai.com/v1",
                              os.environ.get(settings.api_key_env), settings.batch_size, settings.timeout_s,
                              settings.send_dimensions, tracing.httpx_hooks)
    if settings.provider == "e5":
        return E5Embedder(settings.batch_size)
    return MiniLMEmbedder(settings.batch_size, settings.device)


@dataclass(frozen=True)
class RerankEncoders:
    """The token encoders the configured rerankers read; the indexing worker stores what each makes."""

    late_interaction: LateInteractionEncoder | None = None
    latent_terms: LatentTermsEncoder | None = None

    def all(self) -> list[TokenEncoder]:
        return [encoder for encoder in (self.late_interaction, self.latent_terms) if encoder is not None]


def rerank_encoders(settings: MemorySettings) -> RerankEncoders:
    """Loaded now, not on the first query."""
    chosen = {settings.search.reranker, settings.search.cyrillic_reranker or settings.search.reranker}
    encoders = RerankEncoders(LateInteractionEncoder() if "late_interaction" in chosen else None,
                              LatentTermsEncoder() if "latent_terms" in chosen else None)
    if encoders.late_interaction is not None:
        encoders.late_interaction.load()
    if encoders.latent_terms is not None:
        encoders.latent_terms.load()
    return encoders
