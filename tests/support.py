"""Helpers shared by tests: free ports, a uvicorn server in a thread, waiting for readiness."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import uvicorn

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_in_thread(app: Any, port: int | None = None) -> Iterator[str]:
    """Runs an ASGI app under uvicorn on 127.0.0.1 in a background thread; yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: server.started, timeout=60)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise TimeoutError("condition not met in time")


def wait_for_http(url: str, timeout: float = 60.0) -> None:
    def up() -> bool:
        try:
            return httpx.get(url, timeout=1.0).status_code < 500
        except httpx.HTTPError:
            return False

    wait_until(up, timeout=timeout, interval=0.2)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def fresh_database(url: str, prefix: str) -> str:
    """A new, migrated database on the session's server, for tests that need tables of their own (worker
    processes that must have the queue to themselves, triggers, reads of every row)."""
    import psycopg

    from infra.platform import migrations

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)
    database = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
    migrations.upgrade(database)
    return database
