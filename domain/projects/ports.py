"""Where the demo projects service keeps microDAOs' projects and tasks."""

from __future__ import annotations

from typing import Protocol

from domain.projects.model import Project, Task, TaskDraft


class ProjectStore(Protocol):
    async def projects_of(self, microdao_id: str) -> list[Project]: ...

    async def recent_tasks(self, microdao_id: str, project_id: str, limit: int, status: str | None) -> list[Task]:
        """Newest first; raises NotFound when the project is not one of the microDAO's."""
        ...

    async def create_task(
        self, microdao_id: str, project_id: str, draft: TaskDraft, idempotency_key: str | None,
    ) -> tuple[Task, bool]:
        """(task, created): a repeated idempotency key returns the task it created the first time."""
        ...
