"""Test-wide fixtures: one real embedded PostgreSQL (pgvector) for the session, migrated to head."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

pytest_plugins = ["tests.proxy_support"]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh embedded server per test session (or the DATABASE_URL you point the tests at)."""
    from infra.platform import db, migrations

    if not os.environ.get("DAARION_TEST_DATABASE_URL"):
        os.environ.pop("DATABASE_URL", None)
        os.environ["DAARION_DATA_DIR"] = str(tmp_path_factory.mktemp("pg") / "pgdata")
    else:
        os.environ["DATABASE_URL"] = os.environ["DAARION_TEST_DATABASE_URL"]
    url = db.database_url()
    os.environ["DATABASE_URL"] = url  # the services the tests start as processes reuse this server
    migrations.upgrade(url)
    yield url
