"""PgProjectStore: the demo projects service's projects and tasks (tables from alembic 0003; tasks'
microdao_id and row-level security, 0008).

Every query is scoped by microDAO twice: its own WHERE (a project id from another microDAO reads as not
found) and the tenant transaction it runs in (infra/platform/tenancy.py), where the database admits only
that microDAO's rows, so a query that forgot its WHERE still sees nobody else's.
"""

from __future__ import annotations

from typing import Any

from domain.kernel.errors import NotFound
from domain.projects.model import Project, Task, TaskDraft
from infra.platform.tenancy import tenant_transaction

_PROJECTS = """
SELECT p.id, p.microdao_id, p.name, p.description, p.status, p.created_at,
       count(t.id) FILTER (WHERE t.status <> 'done') AS open_tasks
FROM projects p LEFT JOIN tasks t ON t.project_id = p.id AND t.microdao_id = p.microdao_id
WHERE p.microdao_id = $1
GROUP BY p.id, p.microdao_id ORDER BY p.created_at, p.name
"""
_OWNED = "SELECT 1 FROM projects WHERE id = $1 AND microdao_id = $2"
_TASK_COLUMNS = "id::text AS id, project_id, title, description, status, assignee, created_by, created_at"
_RECENT = f"""
SELECT {_TASK_COLUMNS} FROM tasks
WHERE project_id = $1 AND microdao_id = $4 AND ($2::text IS NULL OR status = $2)
ORDER BY created_at DESC, id LIMIT $3
"""
_INSERT = f"""
INSERT INTO tasks (project_id, title, description, status, assignee, created_by, idempotency_key, microdao_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (project_id, idempotency_key, microdao_id) DO NOTHING
RETURNING {_TASK_COLUMNS}
"""
_BY_KEY = f"SELECT {_TASK_COLUMNS} FROM tasks WHERE project_id = $1 AND idempotency_key = $2"


class PgProjectStore:
    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def projects_of(self, microdao_id: str) -> list[Project]:
        async with tenant_transaction(self._pool, microdao_id) as connection:
            rows = await connection.fetch(_PROJECTS, microdao_id)
        return [Project(**dict(row)) for row in rows]

    async def recent_tasks(self, microdao_id: str, project_id: str, limit: int, status: str | None) -> list[Task]:
        async with tenant_transaction(self._pool, microdao_id) as connection:
            await self._require_project(connection, microdao_id, project_id)
            rows = await connection.fetch(_RECENT, project_id, status, limit, microdao_id)
        return [Task(**dict(row)) for row in rows]

    async def create_task(
        self, microdao_id: str, project_id: str, draft: TaskDraft, idempotency_key: str | None,
    ) -> tuple[Task, bool]:
        async with tenant_transaction(self._pool, microdao_id) as connection:
            await self._require_project(connection, microdao_id, project_id)
            row = await connection.fetchrow(_INSERT, project_id, draft.title, draft.description, draft.status,
                                            draft.assignee, draft.created_by, idempotency_key, microdao_id)
            if row is not None:
                return Task(**dict(row)), True
            existing = await connection.fetchrow(_BY_KEY, project_id, idempotency_key)
        return Task(**dict(existing)), False

    @staticmethod
    async def _require_project(connection: Any, microdao_id: str, project_id: str) -> None:
        if await connection.fetchval(_OWNED, project_id, microdao_id) is None:
            raise NotFound(f"microDAO {microdao_id} has no project {project_id!r}")
