"""Projects service handlers: decode, call the store, encode. The caller is the key's agent: the path's
microDAO must be the key's and a task's `created_by` is the caller (naming anyone else is 403)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from apps.common.auth import caller, requires
from apps.common.container import Injected
from apps.common.openapi import answer, errors
from apps.projects.container import ProjectsContainer
from apps.projects.schemas import NewTask, ProjectList, ProjectView, TaskList, TaskView
from domain.identity.scopes import Scope
from domain.projects.model import TaskDraft, TaskStatus

Projects = Injected[ProjectsContainer]
AnyRequest = Request[Any, Any, Any]
Limit = Annotated[int, QueryParameter(ge=1, le=50)]
Status = Annotated[TaskStatus | None, QueryParameter(required=False)]
IdempotencyKey = Annotated[str | None, HeaderParameter(name="idempotency-key", max_length=300, required=False)]


class ProjectsController(Controller):
    path = "/microdaos/{microdao_id:str}/projects"

    @get("/", guards=[requires(Scope.PROJECTS_READ)])
    async def list_projects(self, request: AnyRequest, microdao_id: FromPath[str], container: Projects) -> ProjectList:
        tenant = caller(request).tenant(microdao_id=microdao_id)
        projects = await container.store.projects_of(tenant.microdao_id)
        return ProjectList(tenant.microdao_id, [ProjectView.of(p) for p in projects])

    @get("/{project_id:str}/tasks", guards=[requires(Scope.PROJECTS_READ)], responses=errors(404))
    async def recent_tasks(
        self, request: AnyRequest, microdao_id: FromPath[str], project_id: FromPath[str], container: Projects,
        limit: Limit = 10, status: Status = None,
    ) -> TaskList:
        tenant = caller(request).tenant(microdao_id=microdao_id)
        tasks = await container.store.recent_tasks(tenant.microdao_id, project_id, limit, status)
        return TaskList(project_id, [TaskView.of(t) for t in tasks])

    @post("/{project_id:str}/tasks", guards=[requires(Scope.PROJECTS_WRITE)], responses={
        **answer(TaskView, "The task this `Idempotency-Key` already created."), **errors(404)})
    async def create_task(
        self, request: AnyRequest, microdao_id: FromPath[str], project_id: FromPath[str], data: JSONBody[NewTask],
        container: Projects, idempotency_key: IdempotencyKey = None,
    ) -> Response[TaskView]:
        tenant = caller(request).tenant(data.created_by, microdao_id)
        draft = TaskDraft(data.title, tenant.agent_id, data.description, data.assignee, data.status)
        task, created = await container.store.create_task(tenant.microdao_id, project_id, draft, idempotency_key)
        return Response(TaskView.of(task), status_code=201 if created else 200)
