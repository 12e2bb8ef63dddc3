"""What every contract suite shares: names no other test uses, and a database of one's own."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit, urlunsplit

BOTH = ["fake", "postgres"]  # the parameter of every suite: the in-memory twin, then the real adapter


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def fresh_database(url: str) -> str:
    """A new, migrated database on the session's server, for a test that reads every row of a table."""
    import psycopg

    from infra.platform import migrations

    name = unique("contract").replace("-", "_")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)
    database = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
    migrations.upgrade(database)
    return database


def drop_database(url: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    parts = urlsplit(url)
    with psycopg.connect(urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment)),
                         autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
