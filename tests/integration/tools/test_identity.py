"""Who is calling Toolcore is whoever the API key belongs to: scopes, forged ids in the body, the query and
tool arguments, and the caller's own key forwarded only where a tool's config says (over real HTTP)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import httpx
import pytest

from tests.integration.tools.toolcore_stack import Stack, stack_fixture  # noqa: F401 - the `stack` fixture
from tests.support import bearer, issue_key


def rid() -> str:
    return f"req_{uuid.uuid4().hex}"


def call(stack: Stack, body: dict[str, Any], request_id: str | None = None, who: str = "sofia",
         headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{stack.toolcore}/internal/tools/call", json=body,
                      headers=headers or stack.headers(request_id, who), timeout=10)


def error_type(response: httpx.Response) -> str:
    return str(response.json()["error"]["type"])


def test_the_seed_request_shape_is_accepted_with_sofia_s_key(stack: Stack) -> None:
    body = {"tool_id": "projects.list", "agent_id": "agent:sofia", "args": {"microdao_id": "microdao:7"}}
    response = call(stack, body)
    assert response.status_code == 200, response.text
    assert "Project X" in [p["name"] for p in response.json()["result"]["projects"]]


def test_the_seed_request_shape_naming_another_microdao_in_the_arguments_is_refused_and_recorded(
    stack: Stack,
) -> None:
    request_id = rid()
    before = stack.upstream.hits.copy()
    body = {"tool_id": "projects.list", "agent_id": "agent:sofia", "args": {"microdao_id": "microdao:12"}}
    response = call(stack, body, request_id)
    assert (response.status_code, error_type(response)) == (403, "identity_mismatch")
    [event] = stack.tool_events(request_id)
    assert (event.status, event.error_type, event.agent_id, event.microdao_id) == (
        "denied", "identity_mismatch", "agent:sofia", "microdao:7")
    assert stack.upstream.hits == before


@pytest.mark.parametrize("forged", [{"agent_id": "agent:oleh"}, {"microdao_id": "microdao:12"},
                                    {"agent_id": "agent:sofia", "microdao_id": "microdao:12"}])
def test_a_body_naming_another_agent_or_microdao_is_403_identity_mismatch(stack: Stack, forged: dict[str, str]) -> None:
    response = call(stack, {"tool_id": "time.now", **forged})
    assert (response.status_code, error_type(response)) == (403, "identity_mismatch")


def test_a_query_naming_another_agent_or_microdao_is_403_identity_mismatch(stack: Stack) -> None:
    for forged in ({"agent_id": "agent:mallory"}, {"microdao_id": "microdao:12"}):
        response = httpx.get(f"{stack.toolcore}/internal/tools", params=forged, headers=stack.headers())
        assert (response.status_code, error_type(response)) == (403, "identity_mismatch")


def test_an_identity_argument_declared_in_config_is_checked_and_filled_from_the_caller(stack: Stack) -> None:
    forged = call(stack, {"tool_id": "echo.owner", "args": {"owner": "agent:mallory"}})
    assert (forged.status_code, error_type(forged)) == (403, "identity_mismatch")
    filled = call(stack, {"tool_id": "echo.owner", "args": {}})  # `owner` is required: filled in, then valid
    assert filled.status_code == 200 and filled.json()["result"]["query"] == {"owner": "agent:sofia"}


def test_a_key_without_the_route_s_scope_is_403_insufficient_scope(stack: Stack) -> None:
    lister = issue_key(stack.database_url, "agent:sofia", "microdao:7", scopes="tools:list")
    refused = call(stack, {"tool_id": "time.now"}, headers=bearer(lister))
    assert (refused.status_code, error_type(refused)) == (403, "insufficient_scope")
    assert httpx.get(f"{stack.toolcore}/internal/tools", headers=bearer(lister)).status_code == 200
    caller_only = issue_key(stack.database_url, "agent:sofia", "microdao:7", scopes="tools:call")
    listing = httpx.get(f"{stack.toolcore}/internal/tools", headers=bearer(caller_only))
    assert (listing.status_code, error_type(listing)) == (403, "insufficient_scope")


def test_an_operator_key_acts_as_no_agent_so_it_calls_no_tool(stack: Stack) -> None:
    response = call(stack, {"tool_id": "time.now"}, who="operator")
    assert (response.status_code, error_type(response)) == (403, "agent_key_required")


def test_a_microdao_wide_grant_covers_its_registered_agents_not_those_claiming_it(stack: Stack) -> None:
    assert call(stack, {"tool_id": "time.now"}, who="auditor").json()["ok"] is True  # registered in microdao:9
    claimed = call(stack, {"tool_id": "time.now", "microdao_id": "microdao:9"}, who="mallory")
    assert (claimed.status_code, error_type(claimed)) == (403, "identity_mismatch")
    assert call(stack, {"tool_id": "time.now"}, who="mallory").status_code == 403  # microdao:7's: no grant


def test_the_caller_s_key_reaches_only_tools_configured_to_forward_it(
    stack: Stack, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    key = stack.keys["sofia"]
    plain = call(stack, {"tool_id": "echo.headers", "args": {"note": "plain"}})
    assert plain.json()["ok"] is True
    assert "authorization" not in stack.upstream.headers[-1]
    request_id = rid()
    forwarded = call(stack, {"tool_id": "echo.forwarded", "args": {"note": "with key"}}, request_id)
    assert stack.upstream.headers[-1]["authorization"] == f"Bearer {key}"
    assert forwarded.json()["result"]["headers"]["authorization"] == "Bearer [redacted]"
    [event] = stack.tool_events(request_id)
    metrics = httpx.get(f"{stack.toolcore}/metrics", headers=stack.headers(who="operator")).text
    for text in (forwarded.text, repr(event), caplog.text, metrics):
        assert key not in text


def test_metric_labels_name_only_registered_tools(stack: Stack) -> None:
    for _ in range(3):
        call(stack, {"tool_id": f"made.up{uuid.uuid4().hex[:8]}"})
    metrics = httpx.get(f"{stack.toolcore}/metrics", headers=stack.headers(who="operator")).text
    assert "made.up" not in metrics and 'tool="unknown"' in metrics
