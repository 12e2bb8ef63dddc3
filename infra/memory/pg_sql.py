"""SQL shared by the memory and document writes: named placeholders, and chunks + job in one statement."""

from __future__ import annotations

from collections.abc import Sequence

# Appended to a `WITH item AS (INSERT/UPDATE ... RETURNING id)`: the chunks and the indexing job are
# written by the same statement, so an item is never durable without them.
CHUNKS_AND_JOB = """
    chunks AS (
        INSERT INTO memory_chunks (item_id, seq, tier, kind, microdao_id, agent_id, occurred_at, metadata, text)
        SELECT item.id, piece.seq - 1, {tier}, {kind}, $microdao, $agent, $occurred, $metadata::jsonb, piece.text
        FROM item, unnest($chunks::text[]) WITH ORDINALITY AS piece(text, seq)
        RETURNING 1
    ),
    job AS (INSERT INTO memory_index_jobs (item_id, model, microdao_id) SELECT id, $model, $microdao FROM item
            RETURNING 1)
    SELECT id FROM item
"""


def named(sql: str, names: Sequence[str]) -> str:
    """`$name` placeholders to asyncpg's `$n`; longest names first so `$key` never eats `$keyword`."""
    for name in sorted(names, key=len, reverse=True):
        sql = sql.replace(f"${name}", f"${names.index(name) + 1}")
    return sql
