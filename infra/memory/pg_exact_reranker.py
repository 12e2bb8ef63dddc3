"""The rerank stage's scorer: exact similarity of the query to each candidate, read in one statement.

No cross-encoder installs from PyPI with its weights (every rerank package found downloads them at first
use, which cannot run here), and a transformer pass over 30 candidates costs 100+ ms of CPU on this
machine. So the stage rescores with what is stored: the exact cosine between the query's vector and the
memory's own vectors of the configured model (the first stage only saw HNSW ranks, or no vector rank at
all for a memory the full-text leg found), plus `lexical_weight` times its full-text relevance (ts_rank
over the query's lexemes and stem prefixes, divided by the best in the pool). A memory not indexed yet
has no vector: it gets no score and keeps its first-stage place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.memory.commands import Search
from domain.memory.ranking import Hit
from infra.memory.pg_search_sql import Params, query_terms_sql
from infra.platform.tenancy import tenant_transaction


class PgExactReranker:
    def __init__(self, pool: Any, model: str, dims: int, lexical_weight: float) -> None:
        self._pool, self._model, self._dims, self._lexical_weight = pool, model, int(dims), lexical_weight

    async def scores(self, search: Search, vector: Sequence[float], hits: Sequence[Hit]) -> list[float | None]:
        params = Params()
        ids, query, model = params.add([hit.id for hit in hits]), params.add(vector), params.add(self._model)
        terms = query_terms_sql(params.add(" ".join(search.terms)), params.add(list(search.prefixes)))
        sql = f"""
            SELECT c.item_id::text AS id, max(1 - (e.embedding::vector({self._dims}) <=> {query})) AS cosine,
                   coalesce(max(ts_rank(c.tsv, q.ranking, 1)), 0) AS lexical
            FROM memory_chunks c
            LEFT JOIN memory_embeddings e ON e.chunk_id = c.id AND e.model = {model} AND e.dims = {self._dims}
            CROSS JOIN (SELECT string_agg(term, ' | ' ORDER BY term)::tsquery AS ranking FROM ({terms}) t) q
            WHERE c.item_id = ANY({ids}::uuid[])
            GROUP BY c.item_id
        """
        async with tenant_transaction(self._pool, search.scope.microdao_id, search.scope.agent_id) as connection:
            rows = {row["id"]: row for row in await connection.fetch(sql, *params.values)}
        best = max((row["lexical"] for row in rows.values()), default=0.0) or 1.0
        found = [rows.get(hit.id) for hit in hits]
        return [None if row is None or row["cosine"] is None
                else row["cosine"] + self._lexical_weight * row["lexical"] / best for row in found]
