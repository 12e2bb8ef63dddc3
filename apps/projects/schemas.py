"""Projects service DTOs: strict request bodies, plain response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from apps.common.structs import StrictStruct
from domain.kernel.ids import SubjectId
from domain.projects.model import Project, Task, TaskStatus


class NewTask(StrictStruct):
    """`created_by` is the caller (the key's agent); when given, it must be that agent."""

    title: Annotated[str, Meta(min_length=1, max_length=200)]
    created_by: SubjectId | None = None
    description: Annotated[str, Meta(max_length=4000)] = ""
    assignee: SubjectId | None = None
    status: TaskStatus = "todo"


class ProjectView(msgspec.Struct, frozen=True):
    id: str
    name: str
    description: str
    status: str
    open_tasks: int
    created_at: datetime

    @classmethod
    def of(cls, project: Project) -> ProjectView:
        return cls(project.id, project.name, project.description, project.status, project.open_tasks,
                   project.created_at)


class ProjectList(msgspec.Struct, frozen=True):
    microdao_id: str
    projects: list[ProjectView]


class TaskView(msgspec.Struct, frozen=True):
    id: str
    project_id: str
    title: str
    description: str
    status: str
    assignee: str | None
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, task: Task) -> TaskView:
        return cls(task.id, task.project_id, task.title, task.description, task.status, task.assignee,
                   task.created_by, task.created_at)


class TaskList(msgspec.Struct, frozen=True):
    project_id: str
    tasks: list[TaskView]
