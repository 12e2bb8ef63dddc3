"""Projects service handlers: decode, call the store, encode. Every route is internal (bearer token)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from apps.common.auth import internal_guard
from apps.common.container import Injected
from apps.projects.container import ProjectsContainer
from apps.projects.schemas import NewTask, ProjectList, ProjectView, TaskList, TaskView
from domain.projects.model import TaskDraft, TaskStatus

Projects = Injected[ProjectsContainer]
Limit = Annotated[int, QueryParameter(ge=1, le=50)]
Status = Annotated[TaskStatus | None, QueryParameter(required=False)]
IdempotencyKey = Annotated[str | None, HeaderParameter(name="idempotency-key", max_length=300, required=False)]




class ProjectsController(Controller):
    path = "/microdaos/{microdao_id:str}/projects"
    guards = (internal_guard(),)

    @get("/")
    async def list_projects(self, microdao_id: FromPath[str], container: Projects) -> ProjectList:
        projects = await container.store.projects_of(microdao_id)
        return ProjectList(microdao_id, [ProjectView.of(p) for p in projects])

    @get("/{project_id:str}/tasks")
    async def recent_tasks(
        self, microdao_id: FromPath[str], project_id: FromPath[str], container: Projects, limit: Limit = 10,
        status: Status = None,
    ) -> TaskList:
        tasks = await container.store.recent_tasks(microdao_id, project_id, limit, status)
        return TaskList(project_id, [TaskView.of(t) for t in tasks])

    @post("/{project_id:str}/tasks")
    async def create_task(
        self, microdao_id: FromPath[str], project_id: FromPath[str], data: JSONBody[NewTask], container: Projects,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        draft = TaskDraft(data.title, data.created_by, data.description, data.assignee, data.status)
        task, created = await container.store.create_task(microdao_id, project_id, draft, idempotency_key)
        return Response(TaskView.of(task), status_code=201 if created else 200)
