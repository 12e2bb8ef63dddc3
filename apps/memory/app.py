"""Composition root of the Memory Orchestrator (port 7008).

Besides the container, the app runs `indexing.workers` indexing workers as background tasks (0 or
`enabled: false`: none; run `daarion memory worker` processes instead) and refreshes the queue gauges of
/metrics.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from prometheus_client import CollectorRegistry

from apps.common.service import build_app
from apps.memory.container import MemoryContainer, open_memory
from apps.memory.correction_routes import corrections_router
from apps.memory.routes import internal_router
from apps.memory.settings import MemorySettings, load_memory_settings
from domain.memory.ports import Embedder
from infra.memory.prometheus_metrics import MemoryMetrics
from infra.platform.periodic import every

log = logging.getLogger(__name__)


def create_app(settings: MemorySettings | None = None, embedder: Embedder | None = None) -> Litestar:
    """`embedder` replaces the configured one (tests pass their own)."""
    settings = settings or load_memory_settings()
    registry = CollectorRegistry()
    metrics = MemoryMetrics(registry)

    @asynccontextmanager
    async def open_container() -> AsyncIterator[MemoryContainer]:
        async with open_memory(settings, embedder, metrics) as memory:
            stop = asyncio.Event()
            tasks = [asyncio.create_task(_refresh_queue_gauges(memory, stop))]
            if settings.indexing.enabled:
                model = memory.embedder.model
                tasks += [
                    asyncio.create_task(memory.worker(on_batch=lambda r: metrics.batch_done(model, r))
                                        .run(stop, memory.wake))
                    for _ in range(settings.indexing.workers)
                ]
            try:
                yield memory
            finally:
                stop.set()
                # A batch in flight may finish (its lease protects it either way); a stuck one is cancelled.
                _, pending = await asyncio.wait(tasks, timeout=10)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    return build_app("memory", [internal_router(), corrections_router()], open_container, registry)


async def _refresh_queue_gauges(memory: MemoryContainer, stop: asyncio.Event) -> None:
    """/metrics is served synchronously, so the backlog figures are read here, every few seconds."""

    async def read_backlog() -> None:
        memory.metrics.queue_seen(await memory.queue.stats(), memory.embedder.model)

    # Whatever fails, the refresher goes on: stale gauges beat none.
    await every(memory.settings.metrics_refresh_seconds, stop, read_backlog, "reading the indexing queue's figures",
                log, lambda _: True)
