"""What the HTTP embedders share: batching, and checking that answers are one vector per text of the right size."""

from __future__ import annotations

import math
from collections.abc import Sequence

from domain.kernel.errors import UpstreamFailed


class BatchingEmbedder:
    """Splits `embed` into requests of `batch_size` texts; subclasses send one request in `_embed_batch`."""

    def __init__(self, model: str, dimensions: int, batch_size: int) -> None:
        self._model = model
        self._dimensions = dimensions
        self._batch_size = batch_size

    @property
    def model(self) -> str:
        return self._model

    @property
    def dimensions(self) -> int:
        return self._dimensions

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            vectors.extend(await self._embed_batch(texts[start: start + self._batch_size]))
        return vectors

    async def _embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        raise NotImplementedError


def unit_vectors(raw: Sequence[Sequence[float]], expected: int, dims: int, source: str) -> list[list[float]]:
    if len(raw) != expected:
        raise UpstreamFailed(f"{source} returned {len(raw)} embeddings for {expected} texts")
    vectors = []
    for vector in raw:
        if len(vector) != dims:
            raise UpstreamFailed(f"{source} returned {len(vector)}-dimensional embeddings; the config says {dims} "
                                 "(set embedder.dimensions to the model's size)")
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        vectors.append([x / norm for x in vector])
    return vectors
