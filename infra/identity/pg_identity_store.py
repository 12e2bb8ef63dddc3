"""IdentityStore on PostgreSQL: tables `agents` and `api_keys` (alembic 0005_identity). Every change takes
the next number of the sequence `identity_changes`, which is how caches in other processes learn of it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.identity.keys import AgentRecord, KeyRecord
from domain.identity.scopes import Scope

_KEY_COLUMNS = ("key_id, key_sha256, agent_id, microdao_id, scopes, name, monthly_budget_usd, created_at, "
                "expires_at, revoked_at")
_AGENT_COLUMNS = "agent_id, microdao_id, display_name, disabled_at"
_REREAD = 64


class PgIdentityStore:
    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def register_agent(self, agent: AgentRecord) -> AgentRecord:
        row = await self._pool.fetchrow(
            f"""WITH inserted AS (
                    INSERT INTO agents (agent_id, microdao_id, display_name) VALUES ($1, $2, $3)
                    ON CONFLICT (agent_id) DO NOTHING RETURNING {_AGENT_COLUMNS})
                SELECT {_AGENT_COLUMNS} FROM inserted
                UNION ALL SELECT {_AGENT_COLUMNS} FROM agents WHERE agent_id = $1 LIMIT 1""",
            agent.agent_id, agent.microdao_id, agent.display_name,
        )
        return _agent(row)

    async def agent(self, agent_id: str) -> AgentRecord | None:
        row = await self._pool.fetchrow(f"SELECT {_AGENT_COLUMNS} FROM agents WHERE agent_id = $1", agent_id)
        return None if row is None else _agent(row)

    async def agents(self) -> Sequence[AgentRecord]:
        return [_agent(row) for row in await self._pool.fetch(f"SELECT {_AGENT_COLUMNS} FROM agents ORDER BY agent_id")]

    async def disable_agent(self, agent_id: str, at: datetime) -> AgentRecord | None:
        row = await self._pool.fetchrow(
            f"""UPDATE agents SET disabled_at = coalesce(disabled_at, $2), change_seq = nextval('identity_changes')
                WHERE agent_id = $1 RETURNING {_AGENT_COLUMNS}""", agent_id, at)
        return None if row is None else _agent(row)

    async def add_key(self, key: KeyRecord) -> None:
        await self._pool.execute(
            f"INSERT INTO api_keys ({_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            key.key_id, key.key_sha256, key.agent_id, key.microdao_id, sorted(key.scopes), key.name,
            key.monthly_budget_usd, key.created_at, key.expires_at, key.revoked_at,
        )

    async def key(self, key_id: str) -> KeyRecord | None:
        row = await self._pool.fetchrow(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE key_id = $1", key_id)
        return None if row is None else _key(row)

    async def keys(self, agent_id: str | None = None) -> Sequence[KeyRecord]:
        rows = await self._pool.fetch(
            f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE $1::text IS NULL OR agent_id = $1 ORDER BY created_at",
            agent_id)
        return [_key(row) for row in rows]

    async def revoke_key(self, key_id: str, at: datetime) -> KeyRecord | None:
        return await self._change_key(
            "revoked_at = coalesce(revoked_at, $2)", key_id, at)

    async def expire_key(self, key_id: str, at: datetime) -> KeyRecord | None:
        return await self._change_key("expires_at = least(coalesce(expires_at, $2), $2)", key_id, at)

    async def changes_since(self, position: int) -> tuple[int, Sequence[KeyRecord], Sequence[AgentRecord]]:
        # Numbers are drawn at write time but become visible at commit, not necessarily in order; reading a
        # margin below `position` again catches a change that committed after a later-numbered one.
        position = max(position - _REREAD, 0)
        async with self._pool.acquire() as connection, connection.transaction(isolation="repeatable_read"):
            keys = await connection.fetch(
                f"SELECT {_KEY_COLUMNS}, change_seq FROM api_keys WHERE change_seq > $1", position)
            agents = await connection.fetch(
                f"SELECT {_AGENT_COLUMNS}, change_seq FROM agents WHERE change_seq > $1", position)
        latest = max([position, *(row["change_seq"] for row in keys), *(row["change_seq"] for row in agents)])
        return latest, [_key(row) for row in keys], [_agent(row) for row in agents]

    async def _change_key(self, assignment: str, key_id: str, at: datetime) -> KeyRecord | None:
        row = await self._pool.fetchrow(
            f"""UPDATE api_keys SET {assignment}, change_seq = nextval('identity_changes')
                WHERE key_id = $1 RETURNING {_KEY_COLUMNS}""", key_id, at)
        return None if row is None else _key(row)


def _key(row: Any) -> KeyRecord:
    return KeyRecord(
        row["key_id"], bytes(row["key_sha256"]), row["agent_id"], row["microdao_id"],
        frozenset(Scope(scope) for scope in row["scopes"]), row["name"], row["monthly_budget_usd"],
        row["created_at"], row["expires_at"], row["revoked_at"],
    )


def _agent(row: Any) -> AgentRecord:
    return AgentRecord(row["agent_id"], row["microdao_id"], row["display_name"], row["disabled_at"])
