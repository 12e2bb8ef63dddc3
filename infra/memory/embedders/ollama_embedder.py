"""Embeddings from an Ollama server (POST /api/embed) through the official `ollama` AsyncClient."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence

import httpx
import ollama

from domain.kernel.errors import DaarionError, ServiceUnavailable, UpstreamFailed, UpstreamTimeout
from infra.memory.embedders.vectors import BatchingEmbedder, unit_vectors


class OllamaEmbedder(BatchingEmbedder):
    def __init__(self, model: str, dimensions: int, host: str = "http://127.0.0.1:11434",
                 batch_size: int = 32, timeout_s: float = 30.0,
                 event_hooks: Mapping[str, Sequence[Callable[[httpx.Request], Awaitable[None]]]] | None = None) -> None:
        """`event_hooks`: httpx's (the traceparent, when tracing is on)."""
        super().__init__(model, dimensions, batch_size)
        self._timeout_s = timeout_s
        hooks = {"event_hooks": {kind: list(calls) for kind, calls in event_hooks.items()}} if event_hooks else {}
        self._client = ollama.AsyncClient(host=host, **hooks)

    async def _embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        try:
            async with asyncio.timeout(self._timeout_s):
                response = await self._client.embed(model=self._model, input=list(texts))
        except Exception as exc:  # noqa: BLE001 - classified into the domain's upstream errors
            raise _classify(exc) from None
        return unit_vectors(response.embeddings, len(texts), self._dimensions, f"ollama model '{self._model}'")

    async def aclose(self) -> None:
        await self._client.close()


def _classify(exc: Exception) -> DaarionError:
    if isinstance(exc, (TimeoutError, httpx.TimeoutException)):
        return UpstreamTimeout("ollama did not answer the embedding request in time")
    if isinstance(exc, (ConnectionError, httpx.TransportError)):
        return ServiceUnavailable(f"ollama is not reachable: {exc}")
    if isinstance(exc, ollama.ResponseError):
        return UpstreamFailed(f"ollama refused the embedding request ({exc.status_code}): {exc.error}")
    return UpstreamFailed(f"ollama embedding failed: {type(exc).__name__}: {exc}")
