"""The LLM proxy's adapters, opened for the app's lifetime: providers, admission control (rate limits and
budgets), ledger, usage projection and reports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from apps.common.container import ReadinessCheck
from apps.common.core import Core, OnCore, open_core
from apps.llm_proxy.settings import EMBEDDING_KINDS, ProxySettings
from domain.identity.administration import IdentityAdmin
from domain.ledger.reports import UsageReports
from domain.llm.embeddings import EmbeddingsGateway
from domain.llm.gateway import LlmGateway
from domain.llm.policies import BudgetPolicy, LimitPolicy, PriceTable, Router
from domain.llm.ports import ChatProvider
from infra.identity.pg_identity_store import PgIdentityStore
from infra.ledger.projected_usage import ProjectedUsageReports
from infra.ledger.usage_projection import ProjectorThread, UsageProjector
from infra.llm.pg_admission import PgAdmissionControl
from infra.llm.prometheus_metrics import ProxyMetrics
from infra.llm.providers.factory import build_provider, parameter_policy
from infra.llm.traced_embeddings import TracedEmbeddingProvider
from infra.llm.traced_provider import TracedChatProvider
from infra.platform.clock import SystemClock
from infra.platform.db import create_pool
from infra.platform.tracing import OFF, Tracing


@dataclass(frozen=True)
class ProxyContainer(OnCore):
    gateway: LlmGateway
    usage: UsageReports
    metrics: ProxyMetrics
    identity: IdentityAdmin
    core: Core
    embeddings: EmbeddingsGateway
    configured: Mapping[str, bool]  # provider -> has what it needs to call out (an API key, when it needs one)

    def readiness(self) -> Mapping[str, ReadinessCheck]:
        return {**super().readiness(), "config": _config_loaded}


@asynccontextmanager
async def open_proxy(
    settings: ProxySettings, metrics: ProxyMetrics, providers: Mapping[str, ChatProvider] | None = None,
    tracing: Tracing = OFF,
) -> AsyncIterator[ProxyContainer]:
    """`providers` replaces the configured adapters by name (tests swap in their own)."""
    built: dict[str, Any] = {
        name: build_provider(name, cfg, settings.ollama_host, tracing) for name, cfg in settings.providers.items()}
    built.update(providers or {})
    kinds = {name: cfg.kind for name, cfg in settings.providers.items()}
    chat = {name: provider for name, provider in built.items() if kinds.get(name) != "minilm"}
    embedders = {name: provider for name, provider in built.items() if kinds.get(name) in EMBEDDING_KINDS}
    prices = PriceTable(settings.prices)
    if tracing.on:
        chat = {name: TracedChatProvider(provider, kinds.get(name, name), prices, tracing.tracer)
                for name, provider in chat.items()}
        embedders = {name: TracedEmbeddingProvider(provider, kinds[name], prices, tracing.tracer)
                     for name, provider in embedders.items()}
    clock = SystemClock()
    async with open_core(settings.ledger.mode, pool_size=10) as core:
        identity = IdentityAdmin(PgIdentityStore(core.pool), core.recorder, clock, settings.allow_unregistered_agents)
        if settings.bootstrap_admin_key:
            await identity.adopt_operator_key(settings.bootstrap_admin_key, "bootstrap")
        # Admissions are not worth a WAL flush each (it would serialise every call of one agent on its row
        # lock); settlements wait for theirs (llm_settle), and the ledger keeps full durability on its own.
        limiter_pool = await create_pool(core.url, max_size=10, durable=False)
        limiter = PgAdmissionControl(limiter_pool, clock)
        limiter.start_pruning(interval_s=300)  # rate_limit_windows keeps an hour, not forever
        projector = UsageProjector(core.ledger)
        projector_thread = ProjectorThread(projector)
        projector_thread.start()
        limits = LimitPolicy(settings.limits.default, settings.limits.agents)
        budgets = BudgetPolicy(settings.budgets.agents, settings.budgets.microdaos)
        gateway = LlmGateway(
            Router({name: route.targets for name, route in settings.models.items()}), chat, prices, limits, budgets,
            limiter, core.recorder, clock, metrics, settings.default_max_tokens,
            {name: parameter_policy(cfg) for name, cfg in settings.providers.items()},
        )
        embeddings = EmbeddingsGateway(
            Router({name: route.targets for name, route in settings.embeddings.items()}), embedders, prices, limits,
            budgets, limiter, core.recorder, clock, metrics, gateway.health,
        )
        # Only adapters that need a key can lack what they need (OpenAICompatibleProvider.configured).
        configured = {name: getattr(provider, "configured", True) for name, provider in built.items()}
        try:
            yield ProxyContainer(
                gateway, ProjectedUsageReports(core.ledger, projector, core.pool), metrics, identity, core,
                embeddings, configured,
            )
        finally:
            await limiter.aclose()
            await limiter_pool.close()
            await asyncio.to_thread(projector_thread.stop)
            await asyncio.to_thread(projector.close)
            await asyncio.gather(*(provider.aclose() for provider in built.values()), return_exceptions=True)


async def _config_loaded() -> None:
    return None
