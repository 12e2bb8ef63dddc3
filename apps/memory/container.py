"""The memory service's adapters, shared by the app, its worker process and its CLI: database, ledger,
embedder, store, indexing queue."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry

from apps.common.core import Core, OnCore, open_core
from apps.memory.embedders import RerankEncoders, build_embedder, rerank_encoders
from apps.memory.settings import MemorySettings
from domain.memory.corrections import MemoryCorrections
from domain.memory.indexing import IndexingWorker
from domain.memory.near_duplicates import NearDuplicates
from domain.memory.ports import Embedder
from domain.memory.queue import BatchReport, IndexingPolicy
from domain.memory.retrieval import ByScript, Reranker
from domain.memory.service import MemoryPolicies, MemoryService
from infra.ledger.entry_reader import LedgerEntryReader
from infra.ledger.repository_lookup import LedgerRepositoryLookup
from infra.memory.embedders.proxy_embedder import billed_to
from infra.memory.late_interaction_reranker import PgLateInteractionReranker
from infra.memory.latent_terms_reranker import PgLatentTermsReranker
from infra.memory.pg_exact_reranker import PgExactReranker
from infra.memory.pg_indexing_queue import PgIndexingQueue
from infra.memory.pg_memory_store import PgMemoryStore
from infra.memory.pg_near_duplicates import PgNearDuplicates
from infra.memory.pg_pool import open_memory_pool
from infra.memory.pg_revisions import PgRevisionStore
from infra.memory.prometheus_metrics import MemoryMetrics
from infra.platform.clock import SystemClock
from infra.platform.tracing import OFF, Tracing


@dataclass
class MemoryContainer(OnCore):
    settings: MemorySettings
    core: Core
    pool: Any
    embedder: Embedder
    store: PgMemoryStore
    queue: PgIndexingQueue
    service: MemoryService
    corrections: MemoryCorrections
    metrics: MemoryMetrics
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    tracing: Tracing = OFF
    rerank_encoders: RerankEncoders = field(default_factory=RerankEncoders)

    def worker(
        self, policy: IndexingPolicy | None = None, on_batch: Callable[[BatchReport], None] | None = None,
        embedder: Embedder | None = None,
    ) -> IndexingWorker:
        """A worker for the runtime's embedder, or another one (it then works that model's jobs)."""
        worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        return IndexingWorker(self.queue, embedder or self.embedder, self.core.recorder,
                              LedgerRepositoryLookup(self.core.ledger), policy or self.settings.indexing, worker_id,
                              on_batch, billed_to if self.settings.embedder.on_behalf else None,
                              self.rerank_encoders.all())


@asynccontextmanager
async def open_memory(
    settings: MemorySettings, embedder: Embedder | None = None, metrics: MemoryMetrics | None = None,
    tracing: Tracing = OFF,
) -> AsyncIterator[MemoryContainer]:
    """`embedder` replaces the configured one (tests pass their own); `metrics` are the app's (the CLI has none
    to serve)."""
    embedder = embedder or build_embedder(settings.embedder, tracing)
    load = getattr(embedder, "load", None)
    if load is not None:  # an in-process model: load it now, not on the first request
        await asyncio.to_thread(load)
    try:
        async with open_core(settings.ledger.mode, pool_size=2) as core:
            pool = await open_memory_pool(core.url, settings.database.pool_size, settings.search.hnsw_ef_search)
            try:
                store = PgMemoryStore(pool, embedder.dimensions, settings.search.text_ranking_policy(),
                                      settings.search.vector_neighbour_weight)
                wake = asyncio.Event()
                policies = MemoryPolicies(settings.limits, settings.chunking, settings.ranking, settings.retrieval)
                encoders = await asyncio.to_thread(rerank_encoders, settings)
                reranker = build_reranker(settings, pool, embedder, encoders)
                near_duplicates = NearDuplicates(PgNearDuplicates(pool, embedder.dimensions), embedder,
                                                 settings.near_duplicates)
                service = MemoryService(store, embedder, core.recorder, SystemClock(), policies, wake.set,
                                        reranker, near_duplicates)
                corrections = MemoryCorrections(store, PgRevisionStore(pool), LedgerEntryReader(core.ledger),
                                                core.recorder, embedder.model, policies, wake.set)
                yield MemoryContainer(settings, core, pool, embedder, store, PgIndexingQueue(pool), service,
                                      corrections, metrics or MemoryMetrics(CollectorRegistry()), wake, tracing,
                                      encoders)
            finally:
                await pool.close()
    finally:
        await embedder.aclose()


def build_reranker(settings: MemorySettings, pool: Any, embedder: Embedder, encoders: RerankEncoders) -> Reranker:
    def named(name: str) -> Reranker:
        if name == "late_interaction" and encoders.late_interaction is not None:
            return PgLateInteractionReranker(pool, encoders.late_interaction)
        if name == "latent_terms" and encoders.latent_terms is not None:
            return PgLatentTermsReranker(pool, encoders.latent_terms)
        return PgExactReranker(pool, embedder.model, embedder.dimensions, settings.search.rerank_lexical_weight)

    main, cyrillic = settings.search.reranker, settings.search.cyrillic_reranker
    return named(main) if cyrillic in (None, main) else ByScript(named(cyrillic or main), named(main))
