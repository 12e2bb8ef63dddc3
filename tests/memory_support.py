"""Fixtures and helpers of the memory tests: the real MiniLM model (loaded once), settings, a runtime, the ledger."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import msgspec
import pytest

from apps.memory.runtime import MemoryRuntime, open_memory
from apps.memory.settings import MemorySettings
from domain.ledger import UsageLedger
from domain.ports import Embedder
from infra.embedders.minilm import MiniLMEmbedder

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


@pytest.fixture(scope="session", name="memory_runtime")
async def memory_runtime_fixture(database_url: str, minilm: MiniLMEmbedder) -> AsyncIterator[MemoryRuntime]:
    async with open_memory(memory_settings(), minilm) as runtime:
        yield runtime


async def index_everything(runtime: MemoryRuntime, embedder: Embedder | None = None) -> int:
    """Works the queue of the runtime's model (or `embedder`'s) until nothing is ready; returns items indexed."""
    worker = runtime.worker(embedder=embedder)
    indexed = 0
    while (report := await worker.run_once()).claimed:
        indexed += report.indexed
    return indexed


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
