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
    """Runs an ASGI app under uvicorn on 127.0.0.1 in a background thread, with `daarion serve`'s protocol
    options (malformed requests answered with the JSON error body); yields its base URL."""
    from apps.common.http_server import SERVER_OPTIONS

    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", **SERVER_OPTIONS)
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


def issue_key(url: str, agent_id: str | None, microdao_id: str | None = None, scopes: Any = None,
              monthly_budget_usd: Any = None) -> str:
    """A real API key in the database at `url` (the agent registered first when needed); `agent_id` None
    makes an operator key (of every microDAO, or of `microdao_id` only when given). Callable from sync tests and from inside a running event loop alike."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _issue_key(url, agent_id, microdao_id, scopes, monthly_budget_usd)).result()


async def _issue_key(url: str, agent_id: str | None, microdao_id: str | None, scopes: Any,
                     monthly_budget_usd: Any) -> str:
    from datetime import UTC, datetime

    from domain.identity.keys import AgentRecord, KeyRecord, digest, new_key
    from domain.identity.scopes import AGENT_SCOPES, MICRODAO_OPERATOR_SCOPES, OPERATOR_SCOPES, parse_scopes
    from infra.identity.pg_identity_store import PgIdentityStore
    from infra.platform.db import create_pool

    pool = await create_pool(url, max_size=1)
    try:
        store = PgIdentityStore(pool)
        if agent_id is not None:
            await store.register_agent(AgentRecord(agent_id, microdao_id or "microdao:7"))
            microdao_id = (await store.agent(agent_id) or AgentRecord(agent_id, "")).microdao_id
        default = AGENT_SCOPES if agent_id else MICRODAO_OPERATOR_SCOPES if microdao_id else OPERATOR_SCOPES
        chosen = parse_scopes(scopes) if scopes else default
        key_id, key = new_key()
        await store.add_key(KeyRecord(key_id, digest(key), agent_id, microdao_id, chosen,
                                      "test", monthly_budget_usd, datetime.now(UTC)))
        return key
    finally:
        await pool.close()


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def unique_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"
