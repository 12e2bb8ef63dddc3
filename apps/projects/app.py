"""Composition root of the projects service (port 7010). Seed data comes with alembic revision 0003."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from prometheus_client import CollectorRegistry

from apps.common.service import build_app
from apps.projects.routes import ProjectsController
from domain.projects.ports import ProjectStore
from infra.platform.db import create_pool, database_url
from infra.projects.pg_project_store import PgProjectStore

DEFAULT_PORT = 7010


class ProjectsSettings(msgspec.Struct, frozen=True):
    pool_size: int = 10


def create_app(settings: ProjectsSettings | None = None) -> Litestar:
    settings = settings or ProjectsSettings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool = await create_pool(database_url(), min_size=1, max_size=settings.pool_size)
        app.state.store = PgProjectStore(pool)
        app.state.readiness["database"] = lambda: _ping(pool)
        try:
            yield
        finally:
            await pool.close()

    api = Router("/", route_handlers=[ProjectsController],
                 dependencies={"store": Provide(_provide_store, sync_to_thread=False)})
    return build_app("projects", [api], lifespan, CollectorRegistry())


def _provide_store(state: State) -> ProjectStore:
    store: ProjectStore = state.store
    return store


async def _ping(pool: Any) -> None:
    async with pool.acquire() as connection:
        await connection.fetchval("SELECT 1")
