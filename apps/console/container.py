"""The console's adapters: read ports over the projections, the ledger, spend control and memory, the identity
administration for keys, and the proxy's and Toolcore's configuration (budgets, limits, grants)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from apps.common.core import Core, OnCore, open_core
from apps.console.sessions import SessionSigner
from apps.console.settings import ConsoleSettings
from apps.llm_proxy.settings import ProxySettings, load_proxy_settings
from domain.identity.administration import IdentityAdmin
from domain.ledger.activity import LedgerActivity
from domain.ledger.spend import SpendSeries
from domain.llm.headroom import SpendControlReadings
from domain.memory.health import MemoryHealthReadings
from domain.tools.permissions import Grant
from infra.identity.console_secret import local_console_secret
from infra.identity.pg_identity_store import PgIdentityStore
from infra.ledger.pg_ledger_activity import PgLedgerActivity
from infra.ledger.pg_spend_series import PgSpendSeries
from infra.ledger.usage_projection import UsageProjector
from infra.llm.pg_spend_readings import PgSpendReadings
from infra.memory.pg_memory_health import PgMemoryHealth
from infra.platform.clock import SystemClock
from infra.tools.yaml_registry import load_tool_catalog


@dataclass(frozen=True)
class ConsoleContainer(OnCore):
    spend: SpendSeries
    activity: LedgerActivity
    spend_control: SpendControlReadings
    memory: MemoryHealthReadings
    identity: IdentityAdmin
    proxy: ProxySettings        # budgets and limits as configured
    grants: list[Grant]         # Toolcore's permissions as configured
    sessions: SessionSigner
    core: Core


@asynccontextmanager
async def open_console(settings: ConsoleSettings, proxy: ProxySettings | None = None,
                       tools_config: Path | None = None) -> AsyncIterator[ConsoleContainer]:
    """`proxy` and `tools_config`: the LLM proxy's settings and Toolcore's YAML (default: as those services
    find theirs), for the budgets, limits and grants the console shows."""
    secret = settings.session_secret.encode() if settings.session_secret else local_console_secret()
    signer = SessionSigner(secret, settings.session_hours * 3600, settings.secure_cookies)
    proxy, catalog = proxy or load_proxy_settings(), load_tool_catalog(tools_config)
    async with open_core(pool_size=settings.pool_size) as core:
        projector = UsageProjector(core.ledger)
        try:
            yield ConsoleContainer(
                PgSpendSeries(core.pool, core.ledger, projector), PgLedgerActivity(core.pool),
                PgSpendReadings(core.pool), PgMemoryHealth(core.pool),
                IdentityAdmin(PgIdentityStore(core.pool), core.recorder, SystemClock()),
                proxy, catalog.grants, signer, core,
            )
        finally:
            await asyncio.to_thread(projector.close)
