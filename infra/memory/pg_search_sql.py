"""SQL of the two search legs: vectors (HNSW, cosine) and full text, each ranked within itself.

Both legs apply the same scope (domain.memory.model.visible) and filters, and run as separate statements so
the service can run the full-text leg while the query is still being embedded; the fusion itself is
domain code (domain.memory.ranking). The full-text leg ORs the query's informative words (see
text_leg_sql), so a paraphrase sharing a few words with the answer still finds it; ts_rank with
normalization 1 (divided by 1 + log(length)) keeps long chunks from winning on word count alone.

The full-text leg ranks by one of two functions (`TextRanking.function`): "ts_rank" (normalization 1), or
"bm25" (Okapi BM25, _bm25_leg), which weighs each term by how rare it is among the chunks the caller
may see; ts_rank has no such weight, so a question's common words count as much as its names.

Both run in a tenant transaction. The full-text leg reads memory_chunks through the view
memory_chunks_matching (alembic 0007_memory_rls), which applies the tenant rule itself: under row-level
security PostgreSQL would not use the GIN index for `tsv @@ query` (not a leakproof operator) and would scan
every chunk of the microDAO instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from domain.memory.commands import Search
from domain.memory.ranking import Candidate

TEXT_SEARCH_CONFIG = "english"  # must match the generated column memory_chunks.tsv (alembic 0002_memory)
# BM25's document frequencies are counted up to this many chunks: a word in more has an idf under
# ln(1 + (N - 2000) / 2000), about 1.6 at 10k chunks, and adds little whatever its exact count.
DF_COUNT_CAP = 2000
# Neighbours are turns of the same channel said at most this long before or after: one conversation.
NEIGHBOUR_WINDOW = "6 hours"


@dataclass(frozen=True)
class TextRanking:
    function: Literal["ts_rank", "bm25"] = "ts_rank"
    common_docs: int = 200
    k1: float = 1.2
    b: float = 0.75
    neighbour_weight: float = 0.0


TS_RANK = TextRanking()


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


def filters_sql(search: Search, params: Params, alias: str = "c") -> list[str]:
    conditions = []
    if search.kinds is not None:
        conditions.append(f"{alias}.kind = ANY({params.add(list(search.kinds))}::text[])")
    if search.since is not None:
        conditions.append(f"{alias}.occurred_at >= {params.add(search.since)}")
    if search.until is not None:
        conditions.append(f"{alias}.occurred_at < {params.add(search.until)}")
    if search.metadata:
        conditions.append(f"{alias}.metadata @> {params.add(search.metadata)}::jsonb")
    return conditions


_DETAILS = """
    SELECT c.id AS chunk_id, c.item_id, c.seq, c.tier, c.kind, c.occurred_at, c.metadata,
           CASE WHEN c.tier = 'mid' THEN i.text ELSE c.text END AS text,
           i.created_at, i.channel_id, i.title, i.source_uri, leg.rank
    FROM (SELECT chunk_id, row_number() OVER (ORDER BY {order}, chunk_id) AS rank FROM leg) leg
    JOIN memory_chunks c ON c.id = leg.chunk_id
    JOIN memory_items i ON i.id = c.item_id
    ORDER BY leg.rank
"""


def vector_leg_sql(
    search: Search, vector: Sequence[float], model: str, dims: int, per_leg: int, neighbour_weight: float = 0.0,
) -> tuple[str, list[Any]]:
    """With a `neighbour_weight` w, a conversation turn scores its own cosine plus w times the best cosine of
    the turns said just before and after it in its channel (among the leg's hits): the answer to "where
    will the hackathon be?" is the reply after "we plan a hackathon; where shall we hold it?"."""
    params = Params()
    dims = int(dims)
    # `embedding::vector(N)` and `dims = N` match the partial HNSW index of that dimension.
    query = params.add(vector)
    distance = f"e.embedding::vector({dims}) <=> {query}"
    filters = filters_sql(search, params)
    join = "JOIN memory_chunks c ON c.id = e.chunk_id" if filters else ""
    model_name = params.add(model)
    where = " AND ".join([f"e.dims = {dims}", f"e.model = {model_name}", scope_sql("e", search, params), *filters])
    limit = params.add(per_leg)
    # MATERIALIZED: the relaxed-order iterative scan may return rows slightly out of order; they are
    # re-ranked by exact distance outside.
    hits = f"""
        WITH hits AS MATERIALIZED (
            SELECT e.chunk_id, {distance} AS distance FROM memory_embeddings e {join}
            WHERE {where} ORDER BY {distance} LIMIT {limit})"""
    if neighbour_weight <= 0:
        return hits + ", leg AS (SELECT * FROM hits)" + _DETAILS.format(order="distance"), params.values
    weight = params.add(neighbour_weight)
    sql = hits + f""",
        lenders AS MATERIALIZED (
            SELECT 1 - h.distance AS relevance, i.microdao_id, i.agent_id, i.channel_id, i.occurred_at
            FROM hits h JOIN memory_chunks c ON c.id = h.chunk_id JOIN memory_items i ON i.id = c.item_id
            WHERE c.tier = 'mid' AND i.channel_id IS NOT NULL
        ),
        {_lent_sql(search, params, weight)},
        scored AS MATERIALIZED (
            SELECT x.chunk_id, -((1 - ({distance})) + coalesce(lent.relevance, 0)) AS distance
            FROM (SELECT chunk_id FROM hits UNION SELECT chunk_id FROM lent) x
            JOIN memory_embeddings e ON e.chunk_id = x.chunk_id AND e.model = {model_name} AND e.dims = {dims}
            LEFT JOIN lent ON lent.chunk_id = x.chunk_id
        ),
        leg AS MATERIALIZED (SELECT chunk_id, distance FROM scored ORDER BY distance, chunk_id LIMIT {limit})
    """ + _DETAILS.format(order="distance")
    return sql, params.values


def _lent_sql(search: Search, params: Params, weight: str) -> str:
    """`lent`: per chunk, `weight` times the best relevance of the `lenders` (turns with their relevance,
    microdao_id, agent_id, channel_id, occurred_at) said just before or after it in its channel, within
    NEIGHBOUR_WINDOW, that pass the search's filters."""
    filters = " AND ".join(["n.tier = 'mid'", *filters_sql(search, params, "n")])
    return f"""lent AS MATERIALIZED (
            SELECT n.id AS chunk_id, {weight} * max(l.relevance) AS relevance
            FROM lenders l
            CROSS JOIN LATERAL (
                (SELECT i.id FROM memory_items i
                 WHERE i.microdao_id = l.microdao_id AND i.agent_id = l.agent_id AND i.tier = 'mid'
                   AND i.channel_id = l.channel_id AND i.occurred_at < l.occurred_at
                   AND i.occurred_at >= l.occurred_at - interval '{NEIGHBOUR_WINDOW}'
                 ORDER BY i.occurred_at DESC LIMIT 1)
                UNION ALL
                (SELECT i.id FROM memory_items i
                 WHERE i.microdao_id = l.microdao_id AND i.agent_id = l.agent_id AND i.tier = 'mid'
                   AND i.channel_id = l.channel_id AND i.occurred_at > l.occurred_at
                   AND i.occurred_at <= l.occurred_at + interval '{NEIGHBOUR_WINDOW}'
                 ORDER BY i.occurred_at LIMIT 1)
            ) neighbour
            JOIN memory_chunks n ON n.item_id = neighbour.id
            WHERE {filters}
            GROUP BY n.id
        )"""


def query_terms_sql(words: str, prefixes: str) -> str:
    """The query's terms as tsquery text (`term`): its lexemes (`words` under the text configuration) and
    `prefix:*`; `word` is the lexeme or the prefix itself, `is_prefix` tells which."""
    return (f"SELECT quote_literal(lexeme) AS term, lexeme AS word, false AS is_prefix "
            f"FROM unnest(to_tsvector('{TEXT_SEARCH_CONFIG}', {words})) "
            f"UNION SELECT quote_literal(prefix) || ':*', prefix, true FROM unnest({prefixes}::text[]) prefix")


def text_leg_sql(search: Search, per_leg: int, ranking: TextRanking) -> tuple[str, list[Any]] | None:
    """None when the query has no words to search for.

    The query's terms are its lexemes and its stem prefixes (`search.prefixes`, `stem:*`). Rows are
    selected by the informative terms, OR-ed: those found in at most `common_docs` chunks the caller may
    see. A common term adds little to the ranking and, OR-ed, would make every query rank thousands of
    rows; when a query has nothing but common terms, they are AND-ed instead. The ranking weighs every
    term. The counts are the tenant's own, taken by this statement (through the GIN index), so results
    never depend on when the planner's statistics were last gathered.
    """
    if not search.terms and not search.prefixes:
        return None
    params = Params()
    words, prefixes = params.add(" ".join(search.terms)), params.add(list(search.prefixes))
    common = params.add(ranking.common_docs)
    count_cap = params.add(max(ranking.common_docs, DF_COUNT_CAP) if ranking.function == "bm25" else ranking.common_docs)
    where = " AND ".join(["c.tsv @@ q.matching", scope_sql("c", search, params), *filters_sql(search, params)])
    terms = f"""
        WITH terms AS MATERIALIZED (
            SELECT term, word, is_prefix, (SELECT count(*) FROM (
                              SELECT 1 FROM memory_chunks_matching c
                              WHERE c.tsv @@ term::tsquery AND {scope_sql("c", search, params)}
                              LIMIT {count_cap} + 1) hits) AS docs
            FROM ({query_terms_sql(words, prefixes)}) t
        ),
        q AS (  -- terms in a fixed order: ts_rank's float sums, and so its ties, follow the query's order
            SELECT coalesce(string_agg(term, ' | ' ORDER BY term) FILTER (WHERE docs <= {common}),
                            string_agg(term, ' & ' ORDER BY term))::tsquery AS matching,
                   string_agg(term, ' | ' ORDER BY term)::tsquery AS ranking
            FROM terms
        ),"""
    if ranking.function == "bm25":
        leg = _bm25_leg(search, params, where, ranking, per_leg)
    else:
        leg = f"""
        leg AS MATERIALIZED (
            SELECT c.id AS chunk_id, ts_rank(c.tsv, q.ranking, 1) AS relevance
            FROM memory_chunks_matching c, q
            WHERE {where} ORDER BY relevance DESC, c.id LIMIT {params.add(per_leg)})"""
    return terms + leg + _DETAILS.format(order="relevance DESC"), params.values


def _bm25_leg(search: Search, params: Params, where: str, ranking: TextRanking, per_leg: int) -> str:
    """Okapi BM25 over the selected rows: for each query term t found in chunk d,

        idf(t) * tf(t, d) * (k1 + 1) / (tf(t, d) + k1 * (1 - b + b * len(d) / avglen))
        idf(t) = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))

    tf is the term's number of positions in d (summed over the lexemes a stem prefix matches), len(d) its
    number of distinct lexemes, N and avglen over every chunk the caller may see, df as counted above.

    With a `neighbour_weight` w, a conversation turn also scores w times the best score of the turns said
    just before and just after it in its channel (within NEIGHBOUR_WINDOW): the answer to "what did Kate
    cook?" is often the reply to the turn that names the dish. Only the best `per_leg` turns lend."""
    k1, b = params.add(ranking.k1), params.add(ranking.b)
    scored = f"""
        corpus AS MATERIALIZED (
            SELECT count(*) AS n, coalesce(avg(length(c.tsv)), 1) AS avglen
            FROM memory_chunks_matching c WHERE {scope_sql("c", search, params)}
        ),
        weights AS MATERIALIZED (
            SELECT t.word, t.is_prefix, ln(1 + (corpus.n - t.docs + 0.5) / (t.docs + 0.5)) AS idf
            FROM terms t, corpus
        ),
        selected AS MATERIALIZED (
            SELECT c.id, c.item_id, c.tier, c.tsv FROM memory_chunks_matching c, q WHERE {where}
        ),
        scored AS MATERIALIZED (
            SELECT s.id AS chunk_id, s.item_id, s.tier, sum(f.idf * f.tf * ({k1} + 1)
                       / (f.tf + {k1} * (1 - {b} + {b} * length(s.tsv) / corpus.avglen))) AS relevance
            FROM selected s
            CROSS JOIN corpus
            CROSS JOIN LATERAL (
                SELECT w.idf, sum(coalesce(array_length(u.positions, 1), 1)) AS tf
                FROM unnest(s.tsv) u
                JOIN weights w ON CASE WHEN w.is_prefix THEN starts_with(u.lexeme, w.word) ELSE u.lexeme = w.word END
                GROUP BY w.word, w.is_prefix, w.idf
            ) f
            GROUP BY s.id, s.item_id, s.tier
        ),"""
    limit = params.add(per_leg)
    if ranking.neighbour_weight <= 0:
        # rounded: a float sum's last bits follow the order of its terms, and must not break ties
        return scored + f"""
        leg AS MATERIALIZED (
            SELECT chunk_id, round(relevance::numeric, 9) AS relevance FROM scored
            ORDER BY relevance DESC, chunk_id LIMIT {limit})"""
    weight = params.add(ranking.neighbour_weight)
    return scored + f"""
        lenders AS MATERIALIZED (
            SELECT s.relevance, i.microdao_id, i.agent_id, i.channel_id, i.occurred_at
            FROM (SELECT * FROM scored WHERE tier = 'mid' ORDER BY relevance DESC, chunk_id LIMIT {limit}) s
            JOIN memory_items i ON i.id = s.item_id
            WHERE i.channel_id IS NOT NULL
        ),
        {_lent_sql(search, params, weight)},
        leg AS MATERIALIZED (
            SELECT chunk_id, round((max(own) + max(lent))::numeric, 9) AS relevance
            FROM (SELECT chunk_id, relevance AS own, 0 AS lent FROM scored
                  UNION ALL SELECT chunk_id, 0, relevance FROM lent) parts
            GROUP BY chunk_id
            ORDER BY relevance DESC, chunk_id LIMIT {limit})"""


def unknown_words_sql(search: Search, words: Sequence[str]) -> tuple[str, list[Any]]:
    """The words no visible chunk contains; a word with no lexeme (a stop word) is never reported."""
    params = Params()
    sql = f"""
        SELECT w AS word FROM unnest({params.add(list(words))}::text[]) w
        WHERE numnode(plainto_tsquery('{TEXT_SEARCH_CONFIG}', w)) > 0
          AND NOT EXISTS (SELECT 1 FROM memory_chunks_matching c
                          WHERE c.tsv @@ plainto_tsquery('{TEXT_SEARCH_CONFIG}', w) AND {scope_sql("c", search, params)})
    """
    return sql, params.values


def candidate_of(row: Any, leg: str) -> Candidate:
    return Candidate(
        chunk_id=row["chunk_id"], item_id=str(row["item_id"]), seq=row["seq"], tier=row["tier"], kind=row["kind"],
        text=row["text"], occurred_at=row["occurred_at"], created_at=row["created_at"], metadata=row["metadata"],
        vector_rank=row["rank"] if leg == "vector" else None, text_rank=row["rank"] if leg == "text" else None,
        channel_id=row["channel_id"], title=row["title"], source_uri=row["source_uri"],
    )
