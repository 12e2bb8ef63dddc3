"""PgIdempotencyStore: idempotency keys for tool calls in Postgres (table tool_idempotency, alembic 0003;
its microdao_id and row-level security, 0008).

A key is claimed with one INSERT .. ON CONFLICT, so two concurrent calls with the same key cannot
both run the tool. A claim whose holder died (lease passed) may be taken over; a finished key is
kept for `retention_s`, after which the key may be used afresh. Every statement runs as the calling
tenant (infra/platform/tenancy.py), so the database admits only that agent's rows of that microDAO.
"""

from __future__ import annotations

from typing import Any

import msgspec

from domain.kernel.errors import Conflict
from domain.tools.model import ToolOutcome
from infra.platform.tenancy import tenant_transaction

_CLAIM = """
INSERT INTO tool_idempotency AS t (agent_id, idempotency_key, tool_id, fingerprint, state, lease_until,
                                   microdao_id)
VALUES ($1, $2, $3, $4, 'running', now() + make_interval(secs => $5), $7)
ON CONFLICT (agent_id, idempotency_key, microdao_id) DO UPDATE
    SET tool_id = EXCLUDED.tool_id, fingerprint = EXCLUDED.fingerprint, state = 'running', outcome = NULL,
        created_at = now(), lease_until = EXCLUDED.lease_until
    WHERE (t.state = 'running' AND t.lease_until < now())
       OR (t.state = 'done' AND t.created_at < now() - make_interval(secs => $6))
RETURNING 1
"""
_EXISTING = ("SELECT tool_id, fingerprint, state, outcome FROM tool_idempotency "
             "WHERE agent_id = $1 AND idempotency_key = $2")
_COMPLETE = ("UPDATE tool_idempotency SET state = 'done', outcome = $3::jsonb "
             "WHERE agent_id = $1 AND idempotency_key = $2")
_RELEASE = "DELETE FROM tool_idempotency WHERE agent_id = $1 AND idempotency_key = $2 AND state = 'running'"


class PgIdempotencyStore:
    def __init__(self, pool: Any, retention_s: float = 24 * 3600) -> None:
        self._pool = pool
        self._retention_s = retention_s

    async def claim(
        self, agent_id: str, microdao_id: str, key: str, tool_id: str, fingerprint: str, lease_s: float,
    ) -> ToolOutcome | None:
        async with tenant_transaction(self._pool, microdao_id, agent_id) as connection:
            for _ in range(3):  # a row released between our INSERT and SELECT is simply claimed again
                claimed = await connection.fetchval(_CLAIM, agent_id, key, tool_id, fingerprint, float(lease_s),
                                                    float(self._retention_s), microdao_id)
                if claimed:
                    return None
                row = await connection.fetchrow(_EXISTING, agent_id, key)
                if row is None:
                    continue
                if row["tool_id"] != tool_id or row["fingerprint"] != fingerprint:
                    raise Conflict(f"idempotency key {key!r} was already used for a different call "
                                   f"(tool '{row['tool_id']}' or other arguments); use a new key")
                if row["state"] == "running":
                    raise Conflict(f"a call with idempotency key {key!r} is still running; retry shortly")
                return msgspec.json.decode(row["outcome"], type=ToolOutcome)
        raise Conflict(f"idempotency key {key!r} is contended; retry shortly")

    async def complete(self, agent_id: str, microdao_id: str, key: str, outcome: ToolOutcome) -> None:
        async with tenant_transaction(self._pool, microdao_id, agent_id) as connection:
            await connection.execute(_COMPLETE, agent_id, key, msgspec.json.encode(outcome).decode())

    async def release(self, agent_id: str, microdao_id: str, key: str) -> None:
        async with tenant_transaction(self._pool, microdao_id, agent_id) as connection:
            await connection.execute(_RELEASE, agent_id, key)
