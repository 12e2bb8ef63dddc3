"""Runs alembic programmatically; the scripts live in the repository's alembic/ folder."""

from __future__ import annotations

from alembic.config import Config

from alembic import command
from infra.platform.config_files import REPO_ROOT
from infra.platform.db import database_url, sqlalchemy_url


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url or database_url()).replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "heads") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
