"""The Embedder twin. The memory store and indexing queue twins are in memory_store.py and
indexing_queue.py, over the tables they share (memory_tables.py)."""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence

from domain.kernel.errors import UpstreamFailed


class FakeEmbedder:
    """Bag-of-words vectors (hashed into `dimensions` buckets): texts sharing words are close."""

    def __init__(self, model: str = "fake-bow", dimensions: int = 64, fail_on: str | None = None) -> None:
        self._model = model
        self._dimensions = dimensions
        self.fail_on = fail_on
        self.calls: list[list[str]] = []

    @property
    def model(self) -> str:
        return self._model

    @property
    def dimensions(self) -> int:
        return self._dimensions

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        if self.fail_on is not None and any(self.fail_on in text for text in texts):
            raise UpstreamFailed(f"the fake embedder refuses '{self.fail_on}'")
        return [self.vector(text) for text in texts]

    def vector(self, text: str) -> list[float]:
        vector = [0.0] * self._dimensions
        for word in re.findall(r"\w+", text.lower()) or [text]:  # a text without words still gets a unit vector
            vector[zlib.crc32(word.encode()) % self._dimensions] += 1.0
        norm = math.sqrt(sum(x * x for x in vector))
        return [x / norm for x in vector]

    async def aclose(self) -> None:
        return None
