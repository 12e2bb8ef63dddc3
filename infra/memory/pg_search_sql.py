"""SQL of the two search legs: vectors (HNSW, cosine) and full text, each ranked within itself.

Both legs apply the same scope (domain.memory.model.visible) and filters, and run as separate statements so
the service can run the full-text leg while the query is still being embedded; the fusion itself is
domain code (domain.memory.ranking). The full-text leg ORs the query's informative words (see
text_leg_sql), so a paraphrase sharing a few words with the answer still finds it; ts_rank with
normalization 1 (divided by 1 + log(length)) keeps long chunks from winning on word count alone.

Both run in a tenant transaction. The full-text leg reads memory_chunks through the view
memory_chunks_matching (alembic 0007_memory_rls), which applies the tenant rule itself: under row-level
security PostgreSQL would not use the GIN index for `tsv @@ query` (not a leakproof operator) and would scan
every chunk of the microDAO instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.memory.commands import Search
from domain.memory.ranking import Candidate

TEXT_SEARCH_CONFIG = "english"  # must match the generated column memory_chunks.tsv (alembic 0002_memory)


class Params:
    def __init__(self) -> None:
        self.values: list[Any] = []

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


def scope_sql(alias: str, search: Search, params: Params) -> str:
    """SQL twin of domain.memory.model.visible: same microDAO; long-term, or mid-term of the same agent."""
    visible = []
    if "mid" in search.tiers:
        visible.append(f"({alias}.tier = 'mid' AND {alias}.agent_id = {params.add(search.scope.agent_id)})")
    if "long" in search.tiers:
        visible.append(f"{alias}.tier = 'long'")
    return f"{alias}.microdao_id = {params.add(search.scope.microdao_id)} AND ({' OR '.join(visible)})"


def filters_sql(search: Search, params: Params) -> list[str]:
    conditions = []
    if search.kinds is not None:
        conditions.append(f"c.kind = ANY({params.add(list(search.kinds))}::text[])")
    if search.since is not None:
        conditions.append(f"c.occurred_at >= {params.add(search.since)}")
    if search.until is not None:
        conditions.append(f"c.occurred_at < {params.add(search.until)}")
    if search.metadata:
        conditions.append(f"c.metadata @> {params.add(search.metadata)}::jsonb")
    return conditions


_DETAILS = """
    SELECT c.id AS chunk_id, c.item_id, c.seq, c.tier, c.kind, c.occurred_at, c.metadata,
           CASE WHEN c.tier = 'mid' THEN i.text ELSE c.text END AS text,
           i.created_at, i.channel_id, i.title, i.source_uri, leg.rank
    FROM (SELECT chunk_id, row_number() OVER (ORDER BY {order}, chunk_id) AS rank FROM leg) leg
    JOIN memory_chunks c ON c.id = leg.chunk_id
    JOIN memory_items i ON i.id = c.item_id
"""


def vector_leg_sql(
    search: Search, vector: Sequence[float], model: str, dims: int, per_leg: int,
) -> tuple[str, list[Any]]:
    params = Params()
    dims = int(dims)
    # `embedding::vector(N)` and `dims = N` match the partial HNSW index of that dimension.
    distance = f"e.embedding::vector({dims}) <=> {params.add(vector)}"
    filters = filters_sql(search, params)
    join = "JOIN memory_chunks c ON c.id = e.chunk_id" if filters else ""
    where = " AND ".join([f"e.dims = {dims}", f"e.model = {params.add(model)}", scope_sql("e", search, params),
                          *filters])
    # MATERIALIZED: the relaxed-order iterative scan may return rows slightly out of order; they are
    # re-ranked by exact distance outside.
    sql = f"""
        WITH leg AS MATERIALIZED (
            SELECT e.chunk_id, {distance} AS distance FROM memory_embeddings e {join}
            WHERE {where} ORDER BY {distance} LIMIT {params.add(per_leg)})
    """ + _DETAILS.format(order="distance")
    return sql, params.values


def query_terms_sql(words: str, prefixes: str) -> str:
    """The query's terms as tsquery text: its lexemes (`words` under the text configuration) and `prefix:*`."""
    return (f"SELECT quote_literal(lexeme) AS term FROM unnest(to_tsvector('{TEXT_SEARCH_CONFIG}', {words})) "
            f"UNION SELECT quote_literal(prefix) || ':*' FROM unnest({prefixes}::text[]) prefix")


def text_leg_sql(search: Search, per_leg: int, common_docs: int) -> tuple[str, list[Any]] | None:
    """None when the query has no words to search for.

    The query's terms are its lexemes and its stem prefixes (`search.prefixes`, `stem:*`). Rows are
    selected by the informative terms, OR-ed: those found in at most `common_docs` chunks the caller may
    see. A common term adds little to the ranking and, OR-ed, would make every query rank thousands of
    rows; when a query has nothing but common terms, they are AND-ed instead. The ranking weighs every
    term. The counts are the tenant's own, taken by this statement (capped at common_docs + 1, through
    the GIN index), so results never depend on when the planner's statistics were last gathered.
    """
    if not search.terms and not search.prefixes:
        return None
    params = Params()
    words, prefixes = params.add(" ".join(search.terms)), params.add(list(search.prefixes))
    cap = params.add(common_docs)
    where = " AND ".join(["c.tsv @@ q.matching", scope_sql("c", search, params), *filters_sql(search, params)])
    sql = f"""
        WITH terms AS MATERIALIZED (
            SELECT term, (SELECT count(*) FROM (
                              SELECT 1 FROM memory_chunks_matching c
                              WHERE c.tsv @@ term::tsquery AND {scope_sql("c", search, params)}
                              LIMIT {cap} + 1) hits) AS docs
            FROM ({query_terms_sql(words, prefixes)}) t
        ),
        q AS (  -- terms in a fixed order: ts_rank's float sums, and so its ties, follow the query's order
            SELECT coalesce(string_agg(term, ' | ' ORDER BY term) FILTER (WHERE docs <= {cap}),
                            string_agg(term, ' & ' ORDER BY term))::tsquery AS matching,
                   string_agg(term, ' | ' ORDER BY term)::tsquery AS ranking
            FROM terms
        ),
        leg AS MATERIALIZED (
            SELECT c.id AS chunk_id, ts_rank(c.tsv, q.ranking, 1) AS relevance
            FROM memory_chunks_matching c, q
            WHERE {where} ORDER BY relevance DESC, c.id LIMIT {params.add(per_leg)})
    """ + _DETAILS.format(order="relevance DESC")
    return sql, params.values


def candidate_of(row: Any, leg: str) -> Candidate:
    return Candidate(
        chunk_id=row["chunk_id"], item_id=str(row["item_id"]), seq=row["seq"], tier=row["tier"], kind=row["kind"],
        text=row["text"], occurred_at=row["occurred_at"], created_at=row["created_at"], metadata=row["metadata"],
        vector_rank=row["rank"] if leg == "vector" else None, text_rank=row["rank"] if leg == "text" else None,
        channel_id=row["channel_id"], title=row["title"], source_uri=row["source_uri"],
    )
