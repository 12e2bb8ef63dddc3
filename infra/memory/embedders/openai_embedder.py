"""Embeddings from OpenAI or any server speaking its POST /embeddings (vLLM, LiteLLM, llama.cpp server)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import msgspec

from domain.kernel.errors import ServiceUnavailable, UpstreamFailed, UpstreamTimeout
from infra.memory.embedders.vectors import BatchingEmbedder, unit_vectors

_decode = msgspec.json.Decoder()


class OpenAIEmbedder(BatchingEmbedder):
    """`send_dimensions`: ask the server to shorten vectors (text-embedding-3-* take a `dimensions` field)."""

    def __init__(self, model: str, dimensions: int, base_url: str = "https://api.openai.com/v1",
                 api_key: str | None = None, batch_size: int = 64, timeout_s: float = 30.0,
                 send_dimensions: bool = False) -> None:
        super().__init__(model, dimensions, batch_size)
        self._send_dimensions = send_dimensions
        headers = {"content-type": "application/json"}
        if api_key:
            headers["authorization"] = f"Bearer {api_key}"
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/") + "/", headers=headers, timeout=timeout_s)

    async def _embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        body: dict[str, Any] = {"model": self._model, "input": list(texts), "encoding_format": "float"}
        if self._send_dimensions:
            body["dimensions"] = self._dimensions
        try:
            response = await self._client.post("embeddings", content=msgspec.json.encode(body),
                                               headers=self._call_headers())
        except httpx.TimeoutException:
            raise UpstreamTimeout("the embeddings server did not answer in time") from None
        except httpx.TransportError as exc:
            raise ServiceUnavailable(f"the embeddings server is not reachable: {exc}") from None
        if response.status_code != 200:
            raise UpstreamFailed(f"the embeddings server answered {response.status_code}: {response.text[:300]}")
        try:
            data = sorted(_decode.decode(response.content)["data"], key=lambda item: item["index"])
            raw = [item["embedding"] for item in data]
        except (msgspec.DecodeError, KeyError, TypeError) as exc:
            raise UpstreamFailed(f"the embeddings server sent an unreadable answer ({exc})") from None
        return unit_vectors(raw, len(texts), self._dimensions, f"embeddings model '{self._model}'")

    def _call_headers(self) -> dict[str, str]:
        """Headers of one call besides the client's own (the proxy embedder's caller key)."""
        return {}

    async def aclose(self) -> None:
        await self._client.aclose()
