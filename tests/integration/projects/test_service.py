"""The demo projects service against the embedded Postgres, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from apps.projects.app import create_app
from tests.support import serve_in_thread


@pytest.fixture(scope="module")
def projects_url(database_url: str) -> Iterator[str]:
    with serve_in_thread(create_app()) as base:
        yield base


def test_microdao_7_lists_project_x_with_its_open_tasks(projects_url: str) -> None:
    body = httpx.get(f"{projects_url}/microdaos/microdao:7/projects").json()
    names = {p["name"]: p for p in body["projects"]}
    assert "Project X" in names
    assert names["Project X"]["open_tasks"] >= 3
    assert "Member onboarding" not in names  # microdao:12's project stays with microdao:12


def test_recent_tasks_of_project_x_come_newest_first(projects_url: str) -> None:
    body = httpx.get(f"{projects_url}/microdaos/microdao:7/projects/prj_project_x/tasks",
                     params={"limit": 3}).json()
    created = [t["created_at"] for t in body["tasks"]]
    assert len(created) == 3 and created == sorted(created, reverse=True)
    assert body["tasks"][0]["title"]


def test_a_project_of_another_microdao_reads_as_not_found(projects_url: str) -> None:
    response = httpx.get(f"{projects_url}/microdaos/microdao:7/projects/prj_onboarding/tasks")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"


def test_creating_a_task_twice_with_one_idempotency_key_creates_it_once(projects_url: str) -> None:
    url = f"{projects_url}/microdaos/microdao:7/projects/prj_treasury/tasks"
    payload = {"title": "Reconcile grant payouts", "created_by": "agent:sofia"}
    first = httpx.post(url, json=payload, headers={"idempotency-key": "agent:sofia/k-1"})
    again = httpx.post(url, json=payload, headers={"idempotency-key": "agent:sofia/k-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    listed = httpx.get(url, params={"limit": 50}).json()["tasks"]
    assert [t["title"] for t in listed].count("Reconcile grant payouts") == 1


def test_a_task_without_a_title_is_refused_with_400(projects_url: str) -> None:
    url = f"{projects_url}/microdaos/microdao:7/projects/prj_treasury/tasks"
    response = httpx.post(url, json={"created_by": "agent:sofia"})
    assert response.status_code == 400
