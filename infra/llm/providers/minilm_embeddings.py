"""all-MiniLM-L6-v2 in-process as an embeddings target: the same loaded model the memory service embeds with
(infra/memory/embedders/minilm.py, once per process), so the proxy needs no network and no key for it."""

from __future__ import annotations

import asyncio

from domain.llm.policies import ProviderError, estimate_text_tokens
from domain.llm.ports import Embedded
from infra.memory.embedders.minilm import DIMENSIONS, MiniLMEmbedder


class MiniLMEmbeddings:
    def __init__(self, name: str = "minilm", batch_size: int = 32, device: str = "cpu") -> None:
        self.name = name
        self._embedder = MiniLMEmbedder(batch_size, device)

    async def embed(self, model: str, texts: list[str], dimensions: int | None, timeout_s: float) -> Embedded:
        if dimensions not in (None, DIMENSIONS):
            raise ProviderError("rejected", f"{self.name} makes {DIMENSIONS}-dimensional vectors, not {dimensions}")
        try:
            async with asyncio.timeout(timeout_s):
                vectors = await self._embedder.embed(texts)
        except TimeoutError:
            raise ProviderError("timeout", f"{self.name} did not embed in time") from None
        except ImportError as exc:  # the model package is an optional extra
            raise ProviderError("not_configured", f"{self.name}: the MiniLM model is not installed ({exc})") from None
        # The model truncates at 256 word pieces; the estimate is what is billed (at MiniLM's price, usually 0).
        return Embedded(vectors, sum(estimate_text_tokens(text) for text in texts))

    async def aclose(self) -> None:
        await self._embedder.aclose()
