"""Composition root of the LLM proxy: builds the adapters in the lifespan and hands them to the routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from prometheus_client import CollectorRegistry

from apps.common.core import database_ready, open_core
from apps.common.service import build_app
from apps.llm_proxy.routes import ROUTES
from apps.llm_proxy.settings import ProxyConfig, load_proxy_config
from domain.llm.gateway import LlmGateway
from domain.llm.policies import BudgetPolicy, LimitPolicy, PriceTable, Router
from domain.llm.ports import ChatProvider
from infra.ledger.pg_usage_reports import PgSpendReader
from infra.ledger.usage_projection import ProjectorThread, UsageProjector
from infra.llm.pg_rate_limiter import PgRateLimiter
from infra.llm.prometheus_metrics import ProxyMetrics
from infra.llm.providers.factory import build_provider
from infra.platform.clock import SystemClock
from infra.platform.db import create_pool


def create_app(config: ProxyConfig | None = None, providers: Mapping[str, ChatProvider] | None = None) -> Litestar:
    """`providers` replaces the configured adapters by name (tests swap in their own)."""
    config = config or load_proxy_config()
    registry = CollectorRegistry()
    metrics = ProxyMetrics(registry)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        built: dict[str, Any] = {name: build_provider(name, cfg) for name, cfg in config.providers.items()}
        built.update(providers or {})
        async with open_core(config.ledger.mode, pool_size=10) as core:
            clock = SystemClock()
            # Rate counters are not worth a WAL flush per admission (it serialises every call of one
            # agent on its row lock); the ledger keeps full durability through its own connections.
            limiter_pool = await create_pool(core.url, max_size=10, durable=False)
            limiter = PgRateLimiter(limiter_pool, clock)
            projector = UsageProjector(core.ledger)
            projector_thread = ProjectorThread(projector)
            projector_thread.start()
            app.state.update(
                gateway=LlmGateway(
                    Router({name: route.targets for name, route in config.models.items()}), built,
                    PriceTable(config.prices), LimitPolicy(config.limits.default, config.limits.agents),
                    BudgetPolicy(config.budgets.agents, config.budgets.microdaos), limiter,
                    PgSpendReader(core.pool, config.budget_cache_s), core.recorder, clock, metrics,
                    config.default_max_tokens,
                ),
                pool=core.pool, ledger=core.ledger, projector=projector, limiter=limiter,
            )
            app.state.readiness.update(database=lambda: database_ready(core), config=_config_loaded)
            try:
                yield
            finally:
                await limiter.aclose()
                await limiter_pool.close()
                await asyncio.to_thread(projector_thread.stop)
                await asyncio.gather(*(provider.aclose() for provider in built.values()), return_exceptions=True)

    return build_app(
        "llm-proxy", ROUTES, lifespan, registry,
        state={"metrics": metrics, "api_keys": config.key_index(),
               "agent_microdaos": {agent: cfg.microdao_id for agent, cfg in config.agents.items()}},
    )


async def _config_loaded() -> None:
    return None
