"""The demo projects service's model: microDAOs own projects, projects hold tasks.

The platform's real projects service lives outside this repository; this one exists so Toolcore's
HTTP tools have a real target with real data (Postgres), scoped by microDAO on every read and write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

TaskStatus = Literal["todo", "in_progress", "done"]


class Project(msgspec.Struct, frozen=True):
    id: str
    microdao_id: str
    name: str
    description: str
    status: str
    open_tasks: int
    created_at: datetime


class Task(msgspec.Struct, frozen=True):
    id: str
    project_id: str
    title: str
    description: str
    status: str
    assignee: str | None
    created_by: str
    created_at: datetime


class TaskDraft(msgspec.Struct, frozen=True):
    title: str
    created_by: str
    description: str = ""
    assignee: str | None = None
    status: TaskStatus = "todo"
