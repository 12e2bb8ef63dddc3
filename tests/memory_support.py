"""Fixtures and helpers of the memory tests: the real MiniLM model (loaded once), settings, a runtime, the ledger."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any, TypeVar

import msgspec
import pytest

from apps.memory.container import MemoryContainer, open_memory
from apps.memory.settings import MemorySettings
from domain.ledger.application import UsageLedger
from domain.memory.ports import Embedder
from infra.memory.embedders.minilm import MiniLMEmbedder
from tests.support import fresh_database

T = TypeVar("T")

TEST_DEFAULTS: dict[str, Any] = {
    "indexing": {"enabled": False, "lease_seconds": 30, "poll_seconds": 0.05, "backoff_base_seconds": 0.05,
                 "backoff_max_seconds": 0.2},
    "metrics_refresh_seconds": 0.1,
    "database": {"pool_size": 4},
}


def memory_settings(**sections: Any) -> MemorySettings:
    raw = {key: dict(value) if isinstance(value, dict) else value for key, value in TEST_DEFAULTS.items()}
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) else value
    return msgspec.convert(raw, MemorySettings)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session", name="minilm")
def minilm_fixture() -> MiniLMEmbedder:
    """The real model, loaded once per test session (the loader caches it per process)."""
    embedder = MiniLMEmbedder()
    embedder.load()
    return embedder


class LabelledEmbedder:
    """MiniLM under another model label, optionally refusing texts that contain a marker.

    Indexing jobs are claimed per model, so a session-unique label keeps these tests' jobs away from any
    other worker on the shared test database (the e2e stack runs one for the whole session).
    """

    def __init__(self, inner: MiniLMEmbedder, model: str, refuse: str | None = None) -> None:
        self._inner, self._model, self._refuse = inner, model, refuse

    @property
    def model(self) -> str:
        return self._model

    @property
    def dimensions(self) -> int:
        return self._inner.dimensions

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if self._refuse and any(self._refuse in text for text in texts):
            raise RuntimeError(f"refusing {self._refuse}")
        return await self._inner.embed(texts)

    async def aclose(self) -> None:
        return None


@pytest.fixture(scope="session", name="test_embedder")
def test_embedder_fixture(minilm: MiniLMEmbedder) -> LabelledEmbedder:
    return LabelledEmbedder(minilm, unique("test/all-MiniLM-L6-v2"))


@pytest.fixture(scope="session", name="memory_runtime")
async def memory_runtime_fixture(database_url: str, test_embedder: LabelledEmbedder) -> AsyncIterator[MemoryContainer]:
    async with open_memory(memory_settings(), test_embedder) as runtime:
        yield runtime


@pytest.fixture(name="isolated_database")
def isolated_database_fixture(database_url: str) -> str:
    """A database of its own: these tests' worker processes must have the queue to themselves."""
    return fresh_database(database_url, "memory_isolated")


async def index_everything(runtime: MemoryContainer, embedder: Embedder | None = None) -> int:
    """Works the queue of the runtime's model (or `embedder`'s) until nothing is ready; returns items indexed."""
    return await runtime.worker(embedder=embedder).drain()


def ledger_events(ledger: UsageLedger, kind: type[T]) -> list[T]:
    found: list[T] = []
    position = 1
    while batch := ledger.recorder.select_notifications(start=position, limit=1000):
        for notification in batch:
            if notification.topic.endswith(kind.__qualname__):
                event = ledger.mapper.to_domain_event(notification)
                if isinstance(event, kind):
                    found.append(event)
        position = batch[-1].id + 1
    return found
