"""The rerank stage's late-interaction scorer: MaxSim between the query's token vectors and each candidate's.

The candidates' token vectors were stored by the indexing worker (alembic 0970); the query's are computed
here while they are read. A candidate scores the best MaxSim of its chunks. The model reads English, so a
query with Cyrillic letters gets no scores at all, and a candidate with Cyrillic text none (it keeps its
first-stage place): a Ukrainian memory cut into sub-word pieces would be ranked by noise. A memory
indexed before late interaction was turned on has no token vectors and no score until `daarion memory
reindex --force`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from domain.memory.commands import Search
from domain.memory.ranking import Hit
from domain.memory.stems import has_cyrillic
from infra.memory.embedders.late_interaction import LateInteractionEncoder, max_sim, unpacked
from infra.memory.token_vectors_sql import best_per_item, read_token_vectors


class PgLateInteractionReranker:
    def __init__(self, pool: Any, encoder: LateInteractionEncoder) -> None:
        self._pool, self._encoder = pool, encoder

    async def scores(self, search: Search, vector: Sequence[float], hits: Sequence[Hit]) -> list[float | None]:
        if has_cyrillic(search.query):
            return [None] * len(hits)
        english = [hit.id for hit in hits if not has_cyrillic(hit.text)]
        query, rows = await asyncio.gather(self._encoder.query(search.query),
                                           read_token_vectors(self._pool, search, english, self._encoder.model))
        best = best_per_item(rows, lambda row: max_sim(query, unpacked(row["vectors"], row["dims"])))
        return [best.get(hit.id) for hit in hits]
