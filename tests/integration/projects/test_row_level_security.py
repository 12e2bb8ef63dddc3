"""Row-level security (alembic 0008): inside a tenant transaction a handler that forgot its WHERE still sees
only its own microDAO's projects, tasks and tool idempotency keys, and cannot write another's rows."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from infra.platform.db import create_pool
from infra.platform.tenancy import tenant_transaction

FORGOT_THE_WHERE = {
    "projects": "SELECT DISTINCT microdao_id FROM projects",
    "tasks": "SELECT DISTINCT microdao_id FROM tasks",
    "tool_idempotency": "SELECT DISTINCT microdao_id FROM tool_idempotency",
}


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Any]:
    pool = await create_pool(database_url, max_size=2)
    # As the tables' owner (no RLS): an idempotency key of each seeded microDAO, so every table has rows of both.
    for agent, microdao in (("agent:sofia", "microdao:7"), ("agent:lina", "microdao:12")):
        await pool.execute("INSERT INTO tool_idempotency (agent_id, microdao_id, idempotency_key, tool_id, fingerprint, "
                           "state, lease_until) VALUES ($1, $2, $3, 'task.create', 'fp', 'running', now())",
                           agent, microdao, uuid.uuid4().hex)
    yield pool
    await pool.close()


@pytest.mark.parametrize("table", sorted(FORGOT_THE_WHERE))
async def test_a_query_without_its_where_sees_only_the_tenant_s_rows(pool: Any, table: str) -> None:
    everyone = {row[0] for row in await pool.fetch(FORGOT_THE_WHERE[table])}
    assert {"microdao:7", "microdao:12"} <= everyone  # the owner sees all: there is something to hide
    async with tenant_transaction(pool, "microdao:7", "agent:sofia") as connection:
        seen = {row[0] for row in await connection.fetch(FORGOT_THE_WHERE[table])}
    assert seen == {"microdao:7"}


async def test_another_agent_s_idempotency_keys_are_hidden_even_within_its_microdao(pool: Any) -> None:
    newcomer = f"agent:{uuid.uuid4().hex[:8]}"  # a colleague of Sofia's in microdao:7 with no keys of its own
    async with tenant_transaction(pool, "microdao:7", newcomer) as connection:
        assert await connection.fetchval("SELECT count(*) FROM tool_idempotency") == 0


async def test_a_row_written_into_another_microdao_is_refused(pool: Any) -> None:
    async with tenant_transaction(pool, "microdao:7") as connection:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("INSERT INTO projects (id, microdao_id, name) "
                                     "VALUES ('prj_planted', 'microdao:12', 'planted')")
    async with tenant_transaction(pool, "microdao:7") as connection:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("INSERT INTO tasks (project_id, microdao_id, title, created_by) "
                                     "VALUES ('prj_onboarding', 'microdao:12', 'planted', 'agent:sofia')")
    async with tenant_transaction(pool, "microdao:7") as connection:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("UPDATE tasks SET microdao_id = 'microdao:12' WHERE project_id = 'prj_project_x'")
    async with tenant_transaction(pool, "microdao:7", "agent:sofia") as connection:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("INSERT INTO tool_idempotency (agent_id, microdao_id, idempotency_key, tool_id, "
                                     "fingerprint, state, lease_until) VALUES ('agent:sofia', 'microdao:12', 'k', "
                                     "'t', 'fp', 'running', now())")
    assert await pool.fetchval("SELECT count(*) FROM tasks WHERE title = 'planted'") == 0


async def test_a_task_claiming_the_tenant_s_microdao_cannot_land_in_another_s_project(pool: Any) -> None:
    # Foreign-key checks are not subject to RLS: the (project, microDAO) key is what keeps them together.
    async with tenant_transaction(pool, "microdao:7") as connection:
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await connection.execute("INSERT INTO tasks (project_id, microdao_id, title, created_by) "
                                     "VALUES ('prj_onboarding', 'microdao:7', 'planted', 'agent:sofia')")


async def test_another_microdao_s_rows_cannot_be_changed_or_deleted(pool: Any) -> None:
    async with tenant_transaction(pool, "microdao:7") as connection:
        assert await connection.execute("UPDATE projects SET name = 'mine now' WHERE id = 'prj_onboarding'") == "UPDATE 0"
        assert await connection.execute("DELETE FROM tasks WHERE project_id = 'prj_onboarding'") == "DELETE 0"
    assert await pool.fetchval("SELECT name FROM projects WHERE id = 'prj_onboarding'") == "Member onboarding"
