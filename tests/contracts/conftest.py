"""The session's embedded PostgreSQL as the real adapters take it (pools, the ledger), opened the first time
a real case asks for it: fake cases alone never start the database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from domain.ledger.application import UsageLedger
from infra.ledger.event_store import open_ledger
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


@pytest.fixture(scope="session")
def usage_ledger(database_url: str) -> Iterator[UsageLedger]:
    ledger = open_ledger(database_url)
    yield ledger
    ledger.close()
