"""The rerank stage's scorer by e5's sparse latent terms (infra/memory/embedders/latent_terms.py): the
cosine between the query's terms and each candidate's stored terms, best chunk per memory. A memory
indexed before the terms were turned on has none and keeps its first-stage place."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from domain.memory.commands import Search
from domain.memory.ranking import Hit
from infra.memory.embedders.latent_terms import LatentTermsEncoder, cosine, unpacked
from infra.memory.token_vectors_sql import best_per_item, read_token_vectors


class PgLatentTermsReranker:
    def __init__(self, pool: Any, encoder: LatentTermsEncoder) -> None:
        self._pool, self._encoder = pool, encoder

    async def scores(self, search: Search, vector: Sequence[float], hits: Sequence[Hit]) -> list[float | None]:
        query, rows = await asyncio.gather(
            self._encoder.query(search.query),
            read_token_vectors(self._pool, search, [hit.id for hit in hits], self._encoder.model))
        best = best_per_item(rows, lambda row: cosine(query, unpacked(row["vectors"])))
        return [best.get(hit.id) for hit in hits]
