"""The ProjectStore twin, with PgProjectStore's rules: every read and write is scoped by microDAO (another
microDAO's project reads as not found) and a task's idempotency key is unique within its project."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from domain.kernel.clock import Clock
from domain.kernel.errors import NotFound
from domain.projects.model import Project, Task, TaskDraft
from tests.fakes.clock import FakeClock


class InMemoryProjectStore:
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.projects: dict[str, Project] = {}
        self.tasks: list[tuple[Task, str | None]] = []  # with its idempotency key, oldest first

    def add_project(self, project_id: str, microdao_id: str, name: str, description: str = "",
                    status: str = "active", created_at: datetime | None = None) -> None:
        """What alembic's seed (or an admin) does; the port itself creates no projects."""
        self.projects[project_id] = Project(project_id, microdao_id, name, description, status, 0,
                                            created_at or self.clock.now())

    async def projects_of(self, microdao_id: str) -> list[Project]:
        mine = sorted((p for p in self.projects.values() if p.microdao_id == microdao_id),
                      key=lambda p: (p.created_at, p.name))
        return [msgspec.structs.replace(p, open_tasks=sum(t.project_id == p.id and t.status != "done"
                                                          for t, _ in self.tasks)) for p in mine]

    async def recent_tasks(self, microdao_id: str, project_id: str, limit: int, status: str | None) -> list[Task]:
        self._require_project(microdao_id, project_id)
        newest_first = [t for t, _ in reversed(self.tasks) if t.project_id == project_id and status in (None, t.status)]
        return newest_first[:limit]

    async def create_task(
        self, microdao_id: str, project_id: str, draft: TaskDraft, idempotency_key: str | None,
    ) -> tuple[Task, bool]:
        self._require_project(microdao_id, project_id)
        for task, key in self.tasks:
            if idempotency_key is not None and (task.project_id, key) == (project_id, idempotency_key):
                return task, False
        task = Task(str(uuid.uuid4()), project_id, draft.title, draft.description, draft.status, draft.assignee,
                    draft.created_by, self.clock.now())
        self.tasks.append((task, idempotency_key))
        return task, True

    def _require_project(self, microdao_id: str, project_id: str) -> None:
        project = self.projects.get(project_id)
        if project is None or project.microdao_id != microdao_id:
            raise NotFound(f"microDAO {microdao_id} has no project {project_id!r}")
