"""Toolcore over HTTP with the projects service, the ledger and the usage projection all real; every call
carries the calling agent's own API key (tests/integration/tools/test_identity.py: who may call)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from infra.ledger.event_store import open_ledger
from infra.ledger.usage_projection import UsageProjector
from tests.integration.tools.toolcore_stack import SECRET, Stack, stack_fixture  # noqa: F401 - the `stack` fixture

SOFIA = {"agent_id": "agent:sofia", "microdao_id": "microdao:7"}


def rid() -> str:
    return f"req_{uuid.uuid4().hex}"


def call(stack: Stack, body: dict[str, Any], request_id: str | None = None, who: str = "sofia") -> httpx.Response:
    return httpx.post(f"{stack.toolcore}/internal/tools/call", json=body, headers=stack.headers(request_id, who),
                      timeout=10)


def test_sofia_in_microdao_7_sees_exactly_her_granted_tools(stack: Stack) -> None:
    listed = httpx.get(f"{stack.toolcore}/internal/tools", params=SOFIA, headers=stack.headers()).json()
    ids = {tool["id"] for tool in listed["tools"]}
    assert {"projects.list", "tasks.list", "task.create", "time.now", "math.eval"} <= ids
    assert (listed["agent_id"], listed["microdao_id"]) == ("agent:sofia", "microdao:7")
    unnamed = httpx.get(f"{stack.toolcore}/internal/tools", headers=stack.headers()).json()
    assert unnamed["tools"] == listed["tools"]  # the key says who is asking; the query may only repeat it
    stranger = httpx.get(f"{stack.toolcore}/internal/tools", headers=stack.headers(who="mallory")).json()
    assert stranger["tools"] == []


def test_listed_tools_leave_out_the_arguments_that_name_the_caller(stack: Stack) -> None:
    listed = httpx.get(f"{stack.toolcore}/internal/tools", headers=stack.headers()).json()
    by_id = {tool["id"]: tool for tool in listed["tools"]}
    assert by_id["projects.list"]["input_schema"]["properties"] == {}
    assert "microdao_id" not in by_id["tasks.list"]["input_schema"]["properties"]


def test_the_openai_format_is_a_tools_list_ready_for_the_llm(stack: Stack) -> None:
    listed = httpx.get(f"{stack.toolcore}/internal/tools", params={**SOFIA, "format": "openai"},
                       headers=stack.headers()).json()
    by_name = {entry["function"]["name"]: entry for entry in listed["tools"]}
    assert by_name["tasks__list"]["type"] == "function"
    assert by_name["tasks__list"]["function"]["parameters"]["required"] == ["project_id"]


def test_internal_routes_want_an_api_key(stack: Stack) -> None:
    response = httpx.post(f"{stack.toolcore}/internal/tools/call", json={"tool_id": "time.now", **SOFIA})
    assert response.status_code == 401 and response.json()["error"]["type"] == "unauthenticated"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert httpx.get(f"{stack.toolcore}/internal/tools", headers={"authorization": "Bearer dk_nope"}).status_code == 401


def test_projects_list_reaches_the_projects_service_and_finds_project_x(stack: Stack) -> None:
    request_id = rid()
    body = call(stack, {"tool_id": "projects.list", "args": {}, **SOFIA}, request_id).json()
    assert body["ok"] is True and body["latency_ms"] > 0
    assert "Project X" in [p["name"] for p in body["result"]["projects"]]
    [event] = stack.tool_events(request_id)
    assert (event.status, event.tool_id, event.microdao_id, event.arguments) == (
        "succeeded", "projects.list", "microdao:7", "{}")


def test_tasks_list_returns_recent_tasks_of_project_x(stack: Stack) -> None:
    body = call(stack, {"tool_id": "tasks.list", "args": {"project_id": "prj_project_x", "limit": 3}, **SOFIA}).json()
    assert body["ok"] is True and len(body["result"]["tasks"]) == 3


def test_task_create_with_one_key_twice_creates_one_task_and_replays_the_first_result(stack: Stack) -> None:
    args = {"project_id": "prj_project_x", "title": "Prepare demo of the escrow flow"}
    first_id, second_id = rid(), rid()
    first = call(stack, {"tool_id": "task.create", "args": args, "idempotency_key": "demo-1", **SOFIA}, first_id)
    again = call(stack, {"tool_id": "task.create", "args": args, "idempotency_key": "demo-1", **SOFIA}, second_id)
    assert first.json()["ok"] and again.json()["replayed"] is True
    assert first.json()["result"]["id"] == again.json()["result"]["id"]
    assert first.json()["result"]["created_by"] == "agent:sofia"  # from the caller, not from arguments
    tasks = call(stack, {"tool_id": "tasks.list", "args": {"project_id": "prj_project_x", "limit": 50},
                         **SOFIA}).json()["result"]["tasks"]
    assert [t["title"] for t in tasks].count(args["title"]) == 1
    assert stack.tool_events(first_id)[0].arguments is None  # task.create is not safe to log
    assert stack.tool_events(second_id)[0].replayed is True


def test_the_same_key_for_other_arguments_is_a_conflict(stack: Stack) -> None:
    args = {"project_id": "prj_project_x", "title": "One title"}
    call(stack, {"tool_id": "task.create", "args": args, "idempotency_key": "demo-2", **SOFIA})
    other = call(stack, {"tool_id": "task.create", "args": {**args, "title": "Another"}, "idempotency_key": "demo-2",
                         **SOFIA})
    assert other.status_code == 409


def test_a_call_outside_the_allowlist_is_403_and_recorded_as_denied(stack: Stack) -> None:
    request_id = rid()
    before = stack.upstream.hits.copy()
    response = call(stack, {"tool_id": "task.create", "args": {"project_id": "prj_project_x", "title": "x"}},
                    request_id, who="mallory")
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "permission_denied"
    [event] = stack.tool_events(request_id)
    assert (event.status, event.agent_id, event.microdao_id) == ("denied", "agent:mallory", "microdao:7")
    assert stack.upstream.hits == before
    metrics = httpx.get(f"{stack.toolcore}/metrics", headers=stack.headers(who="operator")).text
    assert 'toolcore_denials_total{tool="task.create"}' in metrics


def test_schema_errors_are_422_with_the_json_path_of_each(stack: Stack) -> None:
    request_id = rid()
    response = call(stack, {"tool_id": "tasks.list", "args": {"project_id": 7, "limit": 500}, **SOFIA}, request_id)
    assert response.status_code == 422
    paths = {error["path"] for error in response.json()["error"]["errors"]}
    assert paths == {"$.project_id", "$.limit"}
    assert stack.tool_events(request_id)[0].status == "invalid"


def test_a_slow_tool_answers_200_with_a_timeout_error_the_agent_can_read(stack: Stack) -> None:
    request_id = rid()
    body = call(stack, {"tool_id": "slow.get", **SOFIA}, request_id).json()
    assert body["ok"] is False and body["error"]["type"] == "timeout"
    assert stack.tool_events(request_id)[0].error_type == "timeout"


def test_a_python_tool_that_overruns_is_a_timeout_and_math_eval_works(stack: Stack) -> None:
    slow = call(stack, {"tool_id": "nap.long", "args": {"seconds": 1}, **SOFIA}).json()
    assert slow["error"]["type"] == "timeout"
    sum_ = call(stack, {"tool_id": "math.eval", "args": {"expression": "2 + 2 * 10"}, **SOFIA}).json()
    assert sum_["result"]["value"] == 22


def test_a_microdao_scoped_tool_acts_in_the_key_s_own_microdao(stack: Stack) -> None:
    # The auditor's grant names no microDAO, but every agent key has one: microdao:9, which has no projects.
    body = call(stack, {"tool_id": "projects.list"}, who="auditor").json()
    assert body["ok"] is True and body["result"] == {"microdao_id": "microdao:9", "projects": []}


def test_secrets_never_reach_the_ledger_logs_or_responses(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    request_id = rid()
    response = call(stack, {"tool_id": "echo.headers", "args": {"note": "hello"}, **SOFIA}, request_id)
    assert stack.upstream.headers[-1]["x-api-key"] == SECRET  # the upstream did get it
    assert response.json()["result"]["headers"]["x-api-key"] == "[redacted]"
    [event] = stack.tool_events(request_id)
    assert event.arguments == '{"note":"hello"}'
    for text in (response.text, repr(event), caplog.text):
        assert SECRET not in text and stack.keys["sofia"] not in text


def test_tool_calls_appear_in_the_usage_projection_per_tool_and_agent(stack: Stack) -> None:
    request_id = rid()
    call(stack, {"tool_id": "time.now", "args": {"timezone": "Europe/Kyiv"}, **SOFIA}, request_id)
    stack.tool_events(request_id)  # committed just after the response: wait for it
    ledger = open_ledger(stack.database_url)
    try:
        UsageProjector(ledger).catch_up()
        with psycopg.connect(stack.database_url) as connection:
            row = connection.execute("SELECT sum(calls) FROM usage_daily WHERE kind = 'tool' AND subject = 'time.now' "
                                     "AND agent_id = 'agent:sofia' AND microdao_id = 'microdao:7'").fetchone()
            assert row is not None and row[0] >= 1
    finally:
        ledger.close()
