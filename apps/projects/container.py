"""The projects service's adapters: its Postgres pool and the project store on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from apps.common.container import ReadinessCheck
from apps.common.core import database_ready
from apps.projects.settings import ProjectsSettings
from domain.projects.ports import ProjectStore
from infra.platform.db import create_pool, database_url
from infra.projects.pg_project_store import PgProjectStore


@dataclass(frozen=True)
class ProjectsContainer:
    store: ProjectStore
    pool: Any

    def readiness(self) -> Mapping[str, ReadinessCheck]:
        return {"database": lambda: database_ready(self.pool)}


@asynccontextmanager
async def open_projects(settings: ProjectsSettings) -> AsyncIterator[ProjectsContainer]:
    pool = await create_pool(database_url(), min_size=1, max_size=settings.pool_size)
    try:
        yield ProjectsContainer(PgProjectStore(pool), pool)
    finally:
        await pool.close()
