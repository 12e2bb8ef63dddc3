"""Composition root of the Memory Orchestrator (port 7008): adapters built in the lifespan, handed to routes.

The lifespan also runs `indexing.workers` indexing workers as background tasks (0 or `enabled: false`:
none; run `daarion memory worker` processes instead) and refreshes the queue gauges of /metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from prometheus_client import CollectorRegistry

from apps.common.core import database_ready
from apps.common.service import build_app
from apps.memory.routes import internal_router
from apps.memory.runtime import MemoryRuntime, open_memory
from apps.memory.settings import MemorySettings, load_memory_settings
from domain.memory.ports import Embedder
from domain.memory.service import MemoryService
from infra.memory.prometheus_metrics import MemoryMetrics

DEFAULT_PORT = 7008
log = logging.getLogger(__name__)


def create_app(settings: MemorySettings | None = None, embedder: Embedder | None = None) -> Litestar:
    """`embedder` replaces the configured one (tests pass their own)."""
    settings = settings or load_memory_settings()
    registry = CollectorRegistry()
    metrics = MemoryMetrics(registry)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_memory(settings, embedder) as runtime:
            app.state.memory = runtime.service
            app.state.readiness["database"] = lambda: database_ready(runtime.core)
            stop = asyncio.Event()
            tasks = [asyncio.create_task(_refresh_queue_gauges(runtime, metrics, stop))]
            if settings.indexing.enabled:
                model = runtime.embedder.model
                tasks += [
                    asyncio.create_task(runtime.worker(on_batch=lambda r: metrics.batch_done(model, r))
                                        .run(stop, runtime.wake))
                    for _ in range(settings.indexing.workers)
                ]
            try:
                yield
            finally:
                stop.set()
                # A batch in flight may finish (its lease protects it either way); a stuck one is cancelled.
                _, pending = await asyncio.wait(tasks, timeout=10)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    api = internal_router(dependencies={
        "memory": Provide(_memory_service, sync_to_thread=False),
        "metrics": Provide(lambda: metrics, sync_to_thread=False),
    })
    return build_app("memory", [api], lifespan, registry)


def _memory_service(state: State) -> MemoryService:
    service: MemoryService = state.memory
    return service


async def _refresh_queue_gauges(runtime: MemoryRuntime, metrics: MemoryMetrics, stop: asyncio.Event) -> None:
    """/metrics is served synchronously, so the backlog figures are read here, every few seconds."""
    while not stop.is_set():
        try:
            metrics.queue_seen(await runtime.queue.stats(), runtime.embedder.model)
        except Exception as exc:  # noqa: BLE001 - a database blip must not end the refresher (/readyz reports it)
            log.warning("could not read the indexing queue's figures: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=runtime.settings.metrics_refresh_seconds)
