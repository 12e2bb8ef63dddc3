"""The demo projects service against the embedded Postgres, over real HTTP, called with agents' API keys:
the caller is the key's agent, which sees and writes only its own microDAO."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from apps.projects.app import create_app
from tests.support import bearer, issue_key, serve_in_thread

SOFIA = "agent:sofia"


@pytest.fixture(scope="module")
def projects_url(database_url: str) -> Iterator[str]:
    with serve_in_thread(create_app()) as base:
        yield base


@pytest.fixture(scope="module")
def sofia(database_url: str) -> dict[str, str]:
    return bearer(issue_key(database_url, SOFIA, "microdao:7"))


def test_microdao_7_lists_project_x_with_its_open_tasks(projects_url: str, sofia: dict[str, str]) -> None:
    body = httpx.get(f"{projects_url}/microdaos/microdao:7/projects", headers=sofia).json()
    names = {p["name"]: p for p in body["projects"]}
    assert "Project X" in names
    assert names["Project X"]["open_tasks"] >= 3
    assert "Member onboarding" not in names  # microdao:12's project stays with microdao:12


def test_recent_tasks_of_project_x_come_newest_first(projects_url: str, sofia: dict[str, str]) -> None:
    body = httpx.get(f"{projects_url}/microdaos/microdao:7/projects/prj_project_x/tasks",
                     params={"limit": 3}, headers=sofia).json()
    created = [t["created_at"] for t in body["tasks"]]
    assert len(created) == 3 and created == sorted(created, reverse=True)
    assert body["tasks"][0]["title"]


def test_creating_a_task_twice_with_one_idempotency_key_creates_it_once(
    projects_url: str, sofia: dict[str, str],
) -> None:
    url = f"{projects_url}/microdaos/microdao:7/projects/prj_treasury/tasks"
    payload = {"title": "Reconcile grant payouts", "created_by": SOFIA}
    first = httpx.post(url, json=payload, headers={**sofia, "idempotency-key": "agent:sofia/k-1"})
    again = httpx.post(url, json=payload, headers={**sofia, "idempotency-key": "agent:sofia/k-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    listed = httpx.get(url, params={"limit": 50}, headers=sofia).json()["tasks"]
    assert [t["title"] for t in listed].count("Reconcile grant payouts") == 1


def test_a_task_is_created_by_the_caller_when_the_body_names_nobody(projects_url: str, sofia: dict[str, str]) -> None:
    url = f"{projects_url}/microdaos/microdao:7/projects/prj_treasury/tasks"
    response = httpx.post(url, json={"title": "Check the Q1 grant budget"}, headers=sofia)
    assert response.status_code == 201 and response.json()["created_by"] == SOFIA


def test_a_task_without_a_title_is_refused_with_400(projects_url: str, sofia: dict[str, str]) -> None:
    url = f"{projects_url}/microdaos/microdao:7/projects/prj_treasury/tasks"
    response = httpx.post(url, json={"created_by": SOFIA}, headers=sofia)
    assert response.status_code == 400


def test_every_route_needs_a_key(projects_url: str) -> None:
    for response in (httpx.get(f"{projects_url}/microdaos/microdao:7/projects"),
                     httpx.post(f"{projects_url}/microdaos/microdao:7/projects/prj_treasury/tasks",
                                json={"title": "x"})):
        assert response.status_code == 401 and response.json()["error"]["type"] == "unauthenticated"


def test_another_microdao_in_the_path_is_403_identity_mismatch(projects_url: str, sofia: dict[str, str]) -> None:
    for response in (httpx.get(f"{projects_url}/microdaos/microdao:12/projects", headers=sofia),
                     httpx.get(f"{projects_url}/microdaos/microdao:12/projects/prj_onboarding/tasks", headers=sofia),
                     httpx.post(f"{projects_url}/microdaos/microdao:12/projects/prj_onboarding/tasks",
                                json={"title": "sneaky"}, headers=sofia)):
        assert response.status_code == 403 and response.json()["error"]["type"] == "identity_mismatch"


def test_a_created_by_naming_another_agent_is_403_identity_mismatch(projects_url: str, sofia: dict[str, str]) -> None:
    url = f"{projects_url}/microdaos/microdao:7/projects/prj_treasury/tasks"
    response = httpx.post(url, json={"title": "Pay me", "created_by": "agent:treasurer"}, headers=sofia)
    assert response.status_code == 403 and response.json()["error"]["type"] == "identity_mismatch"


def test_a_project_of_another_microdao_reads_as_not_found_even_through_its_own_path(
    projects_url: str, sofia: dict[str, str],
) -> None:
    response = httpx.get(f"{projects_url}/microdaos/microdao:7/projects/prj_onboarding/tasks", headers=sofia)
    assert response.status_code == 404 and response.json()["error"]["type"] == "not_found"


def test_reading_needs_projects_read_and_writing_projects_write(database_url: str, projects_url: str) -> None:
    reader = bearer(issue_key(database_url, SOFIA, "microdao:7", scopes="projects:read"))
    tools_only = bearer(issue_key(database_url, SOFIA, "microdao:7", scopes="tools"))
    url = f"{projects_url}/microdaos/microdao:7/projects"
    assert httpx.get(url, headers=reader).status_code == 200
    denied = httpx.post(f"{url}/prj_treasury/tasks", json={"title": "x"}, headers=reader)
    assert denied.status_code == 403 and denied.json()["error"]["type"] == "insufficient_scope"
    assert httpx.get(url, headers=tools_only).json()["error"]["type"] == "insufficient_scope"


def test_an_operator_key_is_not_an_agent_of_any_microdao(database_url: str, projects_url: str) -> None:
    operator = bearer(issue_key(database_url, None, scopes="admin"))
    response = httpx.get(f"{projects_url}/microdaos/microdao:7/projects", headers=operator)
    assert response.status_code == 403 and response.json()["error"]["type"] == "agent_key_required"
