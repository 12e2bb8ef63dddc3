"""ProjectStore: InMemoryProjectStore and PgProjectStore scope, order and deduplicate tasks alike.

The port creates no projects, so each test adds its own (SQL for PostgreSQL, add_project for the fake)
under a microDAO of its own, and leaves the seeded microDAOs 7 and 12 untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.kernel.errors import NotFound
from domain.projects.model import TaskDraft, TaskStatus
from domain.projects.ports import ProjectStore
from infra.projects.pg_project_store import PgProjectStore
from tests.contracts.support import BOTH, unique
from tests.fakes.projects import InMemoryProjectStore

T0 = datetime(2026, 10, 1, tzinfo=UTC)


@dataclass
class Projects:
    store: ProjectStore
    add_project: Callable[[str, str, str, datetime], Awaitable[None]]  # (id, microdao, name, created_at)
    microdao: str

    async def project(self, name: str, microdao: str | None = None, created_at: datetime = T0) -> str:
        project_id = unique("prj")
        await self.add_project(project_id, microdao or self.microdao, name, created_at)
        return project_id


@pytest.fixture(params=BOTH, name="projects")
def projects_fixture(request: pytest.FixtureRequest) -> Projects:
    microdao = unique("microdao:contract")
    if request.param == "fake":
        fake = InMemoryProjectStore()

        async def add_fake(project_id: str, microdao_id: str, name: str, created_at: datetime) -> None:
            fake.add_project(project_id, microdao_id, name, f"about {name}", created_at=created_at)

        return Projects(fake, add_fake, microdao)
    pool: Any = request.getfixturevalue("pg_pool")

    async def add_row(project_id: str, microdao_id: str, name: str, created_at: datetime) -> None:
        await pool.execute("INSERT INTO projects (id, microdao_id, name, description, status, created_at) "
                           "VALUES ($1, $2, $3, $4, 'active', $5)", project_id, microdao_id, name, f"about {name}",
                           created_at)

    return Projects(PgProjectStore(pool), add_row, microdao)


def draft(title: str, status: TaskStatus = "todo", **fields: Any) -> TaskDraft:
    return TaskDraft(title, "agent:sofia", status=status, **fields)


async def test_a_microdao_lists_only_its_own_projects_oldest_first_with_their_open_tasks(projects: Projects) -> None:
    later = await projects.project("Beta", created_at=T0 + timedelta(days=1))
    first = await projects.project("Alpha")
    await projects.project("Not ours", microdao=unique("microdao:other"))
    statuses: list[tuple[str, TaskStatus]] = [("a", "todo"), ("b", "in_progress"), ("c", "done")]
    for title, status in statuses:
        await projects.store.create_task(projects.microdao, first, draft(title, status), None)
    listed = await projects.store.projects_of(projects.microdao)
    assert [(p.id, p.name, p.open_tasks) for p in listed] == [(first, "Alpha", 2), (later, "Beta", 0)]
    assert (listed[0].microdao_id, listed[0].description, listed[0].status, listed[0].created_at) == (
        projects.microdao, "about Alpha", "active", T0)


async def test_a_microdao_without_projects_lists_none(projects: Projects) -> None:
    assert await projects.store.projects_of(unique("microdao:empty")) == []


async def test_a_created_task_keeps_its_draft(projects: Projects) -> None:
    project = await projects.project("Alpha")
    task, created = await projects.store.create_task(
        projects.microdao, project, draft("Write the spec", "in_progress", description="two pages",
                                          assignee="member:olena"), None)
    assert created and task.id
    assert (task.project_id, task.title, task.description, task.status, task.assignee, task.created_by) == (
        project, "Write the spec", "two pages", "in_progress", "member:olena", "agent:sofia")
    assert task.created_at.tzinfo is not None


async def test_recent_tasks_come_newest_first_up_to_the_limit_and_by_status(projects: Projects) -> None:
    project = await projects.project("Alpha")
    statuses: list[TaskStatus] = ["todo", "done", "todo", "in_progress"]
    for n, status in enumerate(statuses):
        await projects.store.create_task(projects.microdao, project, draft(f"task {n}", status), None)
    recent = await projects.store.recent_tasks(projects.microdao, project, 3, None)
    assert [t.title for t in recent] == ["task 3", "task 2", "task 1"]
    todo = await projects.store.recent_tasks(projects.microdao, project, 10, "todo")
    assert [t.title for t in todo] == ["task 2", "task 0"]


async def test_a_repeated_idempotency_key_returns_the_task_it_created(projects: Projects) -> None:
    project = await projects.project("Alpha")
    first, created = await projects.store.create_task(projects.microdao, project, draft("Once"), "k-1")
    again, created_again = await projects.store.create_task(projects.microdao, project, draft("Other title"), "k-1")
    assert (created, created_again, again) == (True, False, first)
    assert [t.title for t in await projects.store.recent_tasks(projects.microdao, project, 10, None)] == ["Once"]


async def test_tasks_without_a_key_or_in_another_project_are_each_created(projects: Projects) -> None:
    one, two = await projects.project("Alpha"), await projects.project("Beta")
    results = [await projects.store.create_task(projects.microdao, project, draft("Same"), key)
               for project, key in ((one, None), (one, None), (one, "k"), (two, "k"))]
    assert all(created for _, created in results)
    assert len({task.id for task, _ in results}) == 4


@pytest.mark.parametrize("whose", ["another microDAO's", "an unknown"])
async def test_a_project_that_is_not_the_microdao_s_reads_as_not_found(projects: Projects, whose: str) -> None:
    other = unique("microdao:other")
    theirs = await projects.project("Theirs", microdao=other)
    project = theirs if whose == "another microDAO's" else unique("prj-missing")
    with pytest.raises(NotFound):
        await projects.store.recent_tasks(projects.microdao, project, 10, None)
    with pytest.raises(NotFound):
        await projects.store.create_task(projects.microdao, project, draft("sneaky"), None)
    assert await projects.store.recent_tasks(other, theirs, 10, None) == [], "nothing was created there"
