"""Composition root of the projects service (port 7010). Seed data comes with alembic revision 0003."""

from __future__ import annotations

from litestar import Litestar
from prometheus_client import CollectorRegistry

from apps.common.service import build_app
from apps.projects.container import open_projects
from apps.projects.routes import ProjectsController
from apps.projects.settings import ProjectsSettings, load_projects_settings


def create_app(settings: ProjectsSettings | None = None) -> Litestar:
    settings = settings or load_projects_settings()
    return build_app("projects", [ProjectsController], lambda _: open_projects(settings), CollectorRegistry())
