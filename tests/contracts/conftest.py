"""Pools on the session's embedded PostgreSQL, opened the first time a `postgres` case asks for one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from infra.memory.pg_pool import open_memory_pool
from infra.platform.db import create_pool


@pytest.fixture(scope="session")
async def pg_pool(database_url: str) -> AsyncIterator[Any]:
    pool = await create_pool(database_url, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
async def memory_pool(database_url: str) -> AsyncIterator[Any]:
    """The memory adapters' pool, with the pgvector and jsonb codecs they expect."""
    pool = await open_memory_pool(database_url, size=4)
    yield pool
    await pool.close()
