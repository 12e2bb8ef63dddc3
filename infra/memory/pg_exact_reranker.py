"""The rerank stage's scorer: exact similarity of the query to each candidate, read in one statement.

No cross-encoder installs from PyPI with its weights (every rerank package found downloads them at first
use, which cannot run here), and a transformer pass over 30 candidates costs 100+ ms of CPU on this
machine. So the stage rescores with what is stored: the exact cosine between the query's vector and the
memory's own vectors of the configured model (the first stage only saw HNSW ranks, or no vector rank at
all for a memory the full-text leg found), plus `lexical_weight` times its full-text relevance (ts_rank
over the query's lexemes and stem prefixes, divided by the best in the pool). A memory not indexed yet
has no vector: it gets no score and keeps its first-stage place.

Pseudo-relevance feedback (query expansion without an LLM), when `feedback_hits` > 0: the mean vector of
the first stage's best `feedback_hits` memories stands for the topic the query landed in, and each
candidate gains `feedback_weight` times its cosine to that mean (Rocchio's rule, in the embedding space).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.memory.commands import Search
from domain.memory.ranking import Hit
from infra.memory.pg_search_sql import Params, query_terms_sql
from infra.platform.tenancy import tenant_transaction


class PgExactReranker:
    def __init__(
        self, pool: Any, model: str, dims: int, lexical_weight: float, feedback_hits: int = 0,
        feedback_weight: float = 0.0,
    ) -> None:
        self._pool, self._model, self._dims, self._lexical_weight = pool, model, int(dims), lexical_weight
        self._feedback_hits, self._feedback_weight = feedback_hits, feedback_weight

    async def scores(self, search: Search, vector: Sequence[float], hits: Sequence[Hit]) -> list[float | None]:
        params = Params()
        ids, query, model = params.add([hit.id for hit in hits]), params.add(vector), params.add(self._model)
        terms = query_terms_sql(params.add(" ".join(search.terms)), params.add(list(search.prefixes)))
        vector_of = f"e.embedding::vector({self._dims})"
        embeddings = f"memory_embeddings e ON e.chunk_id = c.id AND e.model = {model} AND e.dims = {self._dims}"
        top = params.add([hit.id for hit in hits[: self._feedback_hits]])
        sql = f"""
            WITH feedback AS (
                SELECT avg({vector_of}) AS centroid FROM memory_chunks c JOIN {embeddings}
                WHERE c.item_id = ANY({top}::uuid[]))
            SELECT c.item_id::text AS id, max(1 - ({vector_of} <=> {query})) AS cosine,
                   coalesce(max(1 - ({vector_of} <=> f.centroid)), 0) AS feedback,
                   coalesce(max(ts_rank(c.tsv, q.ranking, 1)), 0) AS lexical
            FROM memory_chunks c
            LEFT JOIN {embeddings}
            CROSS JOIN (SELECT string_agg(term, ' | ')::tsquery AS ranking FROM ({terms}) t) q
            CROSS JOIN feedback f
            WHERE c.item_id = ANY({ids}::uuid[])
            GROUP BY c.item_id
        """
        async with tenant_transaction(self._pool, search.scope.microdao_id, search.scope.agent_id) as connection:
            rows = {row["id"]: row for row in await connection.fetch(sql, *params.values)}
        best = max((row["lexical"] for row in rows.values()), default=0.0) or 1.0
        found = [rows.get(hit.id) for hit in hits]
        return [None if row is None or row["cosine"] is None
                else row["cosine"] + self._feedback_weight * row["feedback"] + self._lexical_weight * row["lexical"] / best
                for row in found]
