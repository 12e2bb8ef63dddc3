"""Tenant-scoped transactions: the database itself keeps one microDAO's rows from another's.

Inside `tenant_transaction` the connection runs as `daarion_app` (SET LOCAL ROLE, undone at commit), a
role that owns no table, so the row-level security policies of the tenant tables apply: they admit only
rows whose microdao_id (or agent_id) equals the transaction's `daarion.microdao_id` (`daarion.agent_id`).
A query that forgot its WHERE sees the caller's rows and nothing else. Work that spans tenants (the
indexing worker, pruning, projections) runs on the pool directly, as the tables' owner.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

TENANT_ROLE = "daarion_app"
MICRODAO_SETTING = "daarion.microdao_id"
AGENT_SETTING = "daarion.agent_id"

# One round trip; set_config(..., true) is SET LOCAL, so nothing outlives the transaction on a pooled
# connection.
_ENTER = (
    f"SELECT set_config('role', '{TENANT_ROLE}', true), set_config('{MICRODAO_SETTING}', $1, true), "
    f"set_config('{AGENT_SETTING}', $2, true)"
)


@asynccontextmanager
async def tenant_transaction(pool: Any, microdao_id: str, agent_id: str | None = None) -> AsyncIterator[Any]:
    """A connection in a transaction that sees only `microdao_id`'s rows (and, on agent-keyed tables, only
    `agent_id`'s). An empty agent id matches no agent-keyed row."""
    async with pool.acquire() as connection, connection.transaction():
        await enter_tenant(connection, microdao_id, agent_id)
        yield connection


async def enter_tenant(connection: Any, microdao_id: str, agent_id: str | None = None) -> None:
    """For a transaction already open on `connection`: from here to its end, run as the tenant."""
    await connection.execute(_ENTER, microdao_id, agent_id or "")
