"""The memory service's asyncpg pool: pgvector and jsonb codecs, HNSW search settings on every connection."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
from pgvector.asyncpg import register_vector

from infra.platform.db import asyncpg_dsn


async def open_memory_pool(url: str, size: int = 10, ef_search: int = 80) -> Any:
    async def init(connection: Any) -> None:
        await register_vector(connection)
        await connection.set_type_codec(
            "jsonb", schema="pg_catalog", format="text",
            encoder=lambda value: msgspec.json.encode(value).decode(), decoder=msgspec.json.decode,
        )
        # The cast loads pgvector's library first, so the SETs below are checked, not kept as placeholders.
        # iterative_scan: a filtered HNSW scan (one agent's memories among many) keeps searching until
        # it has enough rows that pass the filter, instead of returning fewer than asked for.
        await connection.execute(
            f"SELECT '[1]'::vector; SET hnsw.ef_search = {int(ef_search)}; "
            "SET hnsw.iterative_scan = relaxed_order"
        )

    return await asyncpg.create_pool(asyncpg_dsn(url), min_size=1, max_size=size, init=init, command_timeout=60)
