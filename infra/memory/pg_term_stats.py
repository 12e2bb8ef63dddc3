"""Lexemes too common to select rows by, read from PostgreSQL's own statistics of memory_chunks.tsv.

ANALYZE (autovacuum) keeps `pg_stats.most_common_elems` for tsvector columns: the lexemes found in the
largest share of rows, with that share. Reading them costs one small query a minute, not a scan. They are
read on the pool as the tables' owner: pg_stats hides the statistics of a table under row-level security
from a role the policies apply to, and these figures span all tenants (they only steer the ranking).
"""

from __future__ import annotations

import time
from typing import Any

_SQL = """
    SELECT most_common_elems::text::text[] AS lexemes, most_common_elem_freqs AS shares
    FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'memory_chunks' AND attname = 'tsv'
"""


class CommonLexemes:
    def __init__(self, pool: Any, share: float, refresh_s: float = 60.0) -> None:
        self._pool = pool
        self._share = share
        self._refresh_s = refresh_s
        self._read_at = -refresh_s
        self._lexemes: list[str] = []

    async def get(self) -> list[str]:
        """Lexemes in more than `share` of all chunks (none until the table has been analyzed)."""
        if self._share < 1 and time.monotonic() - self._read_at >= self._refresh_s:
            self._read_at = time.monotonic()
            row = await self._pool.fetchrow(_SQL)
            if row is not None and row["lexemes"]:
                # shares has three extra numbers at its end (min, max, null share): zip stops before them.
                self._lexemes = [lexeme for lexeme, share in zip(row["lexemes"], row["shares"], strict=False)
                                 if share > self._share]
        return self._lexemes
