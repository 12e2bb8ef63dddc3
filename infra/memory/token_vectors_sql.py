"""Reading the stored token vectors (alembic 0970) of a rerank's candidates, under the tenant rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.memory.commands import Search
from infra.platform.tenancy import tenant_transaction

_READ = """
    SELECT c.item_id::text AS id, t.vectors, t.dims
    FROM memory_token_vectors t JOIN memory_chunks c ON c.id = t.chunk_id AND c.microdao_id = t.microdao_id
    WHERE c.item_id = ANY($1::uuid[]) AND t.model = $2
"""


async def read_token_vectors(pool: Any, search: Search, item_ids: list[str], model: str) -> list[Any]:
    """One row per chunk of the items (`id`: the item's, `vectors`, `dims`) that has vectors of `model`."""
    if not item_ids:
        return []
    async with tenant_transaction(pool, search.scope.microdao_id, search.scope.agent_id) as connection:
        rows: list[Any] = await connection.fetch(_READ, item_ids, model)
    return rows


def best_per_item(rows: list[Any], score: Callable[[Any], float]) -> dict[str, float]:
    """Each item's best score over its chunks' rows."""
    best: dict[str, float] = {}
    for row in rows:
        value = score(row)
        best[row["id"]] = max(value, best.get(row["id"], value))
    return best
