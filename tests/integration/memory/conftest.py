"""The memory HTTP API under test, over real HTTP, on the embedded PostgreSQL with the real MiniLM model.

The app runs without an in-process worker so each test decides when indexing happens (`index_everything`
works the same queue from the test's own runtime).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from apps.memory.app import create_app
from tests.memory_support import (  # noqa: F401 - fixtures
    LabelledEmbedder,
    memory_settings,
    minilm_fixture,
    test_embedder_fixture,
)
from tests.support import serve_in_thread


@pytest.fixture(scope="module")
def api(database_url: str, test_embedder: LabelledEmbedder) -> Iterator[httpx.Client]:
    with serve_in_thread(create_app(memory_settings(), embedder=test_embedder)) as base, \
            httpx.Client(base_url=base + "/internal", timeout=30) as client:
        yield client
