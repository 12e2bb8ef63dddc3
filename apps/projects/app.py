"""Composition root of the projects service (port 7010). Seed data comes with alembic revision 0003."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Litestar
from prometheus_client import CollectorRegistry

from apps.common.container import ReadinessCheck
from apps.common.service import build_app
from apps.projects.routes import ProjectsController
from domain.projects.ports import ProjectStore
from infra.platform.db import create_pool, database_url
from infra.platform.settings import load_settings
from infra.projects.pg_project_store import PgProjectStore


class ProjectsSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pool_size: int = 10


@dataclass(frozen=True)
class ProjectsContainer:
    store: ProjectStore
    pool: Any

    def readiness(self) -> Mapping[str, ReadinessCheck]:
        return {"database": self._ping}

    async def _ping(self) -> None:
        async with self.pool.acquire() as connection:
            await connection.fetchval("SELECT 1")


@asynccontextmanager
async def open_projects(settings: ProjectsSettings) -> AsyncIterator[ProjectsContainer]:
    pool = await create_pool(database_url(), min_size=1, max_size=settings.pool_size)
    try:
        yield ProjectsContainer(PgProjectStore(pool), pool)
    finally:
        await pool.close()


def create_app(settings: ProjectsSettings | None = None) -> Litestar:
    settings = settings or load_settings(ProjectsSettings, "projects", None)
    return build_app("projects", [ProjectsController], lambda: open_projects(settings), ProjectsContainer,
                     CollectorRegistry())
