"""The projects service's adapters: its Postgres pool, the project store on it, and the key index that
authenticates its callers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from apps.common.container import ReadinessCheck
from apps.common.core import database_ready, open_authenticator
from apps.projects.settings import ProjectsSettings
from domain.identity.ports import Authenticator
from domain.projects.ports import ProjectStore
from infra.identity.synced_index import SyncedKeyIndex
from infra.platform.db import create_pool, database_url
from infra.projects.pg_project_store import PgProjectStore


@dataclass(frozen=True)
class ProjectsContainer:
    store: ProjectStore
    pool: Any
    keys: SyncedKeyIndex

    @property
    def authenticator(self) -> Authenticator:
        return self.keys

    def readiness(self) -> Mapping[str, ReadinessCheck]:
        return {"database": lambda: database_ready(self.pool)}


@asynccontextmanager
async def open_projects(settings: ProjectsSettings) -> AsyncIterator[ProjectsContainer]:
    pool = await create_pool(database_url(), min_size=1, max_size=settings.pool_size)
    try:
        keys = await open_authenticator(pool)
        try:
            yield ProjectsContainer(PgProjectStore(pool), pool, keys)
        finally:
            await keys.aclose()
    finally:
        await pool.close()
