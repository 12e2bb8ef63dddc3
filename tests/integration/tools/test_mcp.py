"""Toolcore as an MCP server, driven by the `mcp` package's own client: over streamable HTTP at /mcp
behind the agent's API key (the MCP authorization spec's 401/403 and protected-resource metadata), and
over stdio (`daarion toolcore mcp` with DAARION_API_KEY)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.integration.tools.toolcore_stack import REPO, Stack, stack_fixture  # noqa: F401 - the `stack` fixture
from tests.support import bearer, issue_key

LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def http_client(stack: Stack, who: str = "sofia", request_id: str | None = None,
                extra: dict[str, str] | None = None) -> Client:
    headers = {**bearer(stack.keys[who]), **(extra or {})}
    if request_id:
        headers["x-request-id"] = request_id
    transport = streamable_http_client(f"{stack.toolcore}/mcp", http_client=httpx2.AsyncClient(headers=headers))
    return Client(transport)


def body_of(result: Any) -> dict[str, Any]:
    return json.loads(result.content[0].text)


def post_mcp(stack: Stack, message: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{stack.toolcore}/mcp", json=message, headers={**MCP_HEADERS, **(headers or {})})


async def test_tools_list_over_http_shows_only_what_the_agent_may_call(stack: Stack) -> None:
    async with http_client(stack) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert {"projects.list", "tasks.list", "task.create", "math.eval"} <= set(tools)
    assert "microdao_id" not in tools["tasks.list"].input_schema["properties"]
    async with http_client(stack, who="mallory") as client:
        assert (await client.list_tools()).tools == []


async def test_tools_call_over_http_runs_through_the_ledger_with_the_key_forwarded(stack: Stack) -> None:
    async with http_client(stack, request_id="req_mcp_call_1") as client:
        result = await client.call_tool("tasks.list", {"project_id": "prj_project_x", "limit": 2})
    assert result.is_error is False
    assert len(body_of(result)["result"]["tasks"]) == 2
    [event] = stack.tool_events("req_mcp_call_1")
    assert (event.status, event.tool_id, event.agent_id) == ("succeeded", "tasks.list", "agent:sofia")


async def test_a_denied_call_comes_back_as_an_is_error_result_and_is_recorded(stack: Stack) -> None:
    async with http_client(stack, who="mallory", request_id="req_mcp_denied") as client:
        result = await client.call_tool("task.create", {"project_id": "prj_project_x", "title": "sneaky"})
    assert result.is_error is True
    assert body_of(result)["error"]["type"] == "permission_denied"
    assert stack.tool_events("req_mcp_denied")[0].status == "denied"


async def test_invalid_arguments_and_forged_identity_arguments_are_is_error_results(stack: Stack) -> None:
    async with http_client(stack) as client:
        invalid = await client.call_tool("tasks.list", {"project_id": 12})
        forged = await client.call_tool("projects.list", {"microdao_id": "microdao:12"})
    assert invalid.is_error is True and body_of(invalid)["error"]["errors"][0]["path"] == "$.project_id"
    assert forged.is_error is True and body_of(forged)["error"]["type"] == "identity_mismatch"


def test_mcp_without_a_valid_key_is_401_pointing_at_the_resource_metadata(stack: Stack) -> None:
    for headers in ({}, {"authorization": "Bearer dk_0000000000000000_forged"}):
        response = post_mcp(stack, LIST, headers)
        assert response.status_code == 401 and response.json()["error"]["type"] == "unauthenticated"
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith("Bearer ")
        assert f'resource_metadata="{stack.toolcore}/.well-known/oauth-protected-resource"' in challenge
    assert 'error="invalid_token"' in challenge


def test_the_protected_resource_metadata_is_served_without_a_key(stack: Stack) -> None:
    for path in ("/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"):
        document = httpx.get(f"{stack.toolcore}{path}").json()
        assert document["resource"] == f"{stack.toolcore}/mcp"
        assert document["scopes_supported"] == ["tools:list", "tools:call"]
        assert document["bearer_methods_supported"] == ["header"] and document["resource_name"]


def test_a_key_without_the_method_s_scope_is_403_insufficient_scope(stack: Stack) -> None:
    lister = issue_key(stack.database_url, "agent:sofia", "microdao:7", scopes="tools:list")
    assert post_mcp(stack, LIST, bearer(lister)).status_code == 200
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "time.now", "arguments": {}}}
    refused = post_mcp(stack, call, bearer(lister))
    assert refused.status_code == 403 and refused.json()["error"]["type"] == "insufficient_scope"
    assert 'error="insufficient_scope", scope="tools:call"' in refused.headers["www-authenticate"]
    memory_only = issue_key(stack.database_url, "agent:sofia", "microdao:7", scopes="memory")
    assert post_mcp(stack, LIST, bearer(memory_only)).status_code == 403


async def test_an_x_agent_id_naming_another_agent_is_403_identity_mismatch(stack: Stack) -> None:
    for forged in ({"x-agent-id": "agent:oleh"}, {"x-microdao-id": "microdao:12"}):
        response = post_mcp(stack, LIST, {**stack.headers(), **forged})
        assert response.status_code == 403 and response.json()["error"]["type"] == "identity_mismatch"
    async with http_client(stack, extra={"x-agent-id": "agent:sofia"}) as client:  # repeating it is fine
        assert (await client.list_tools()).tools


async def test_the_stdio_server_acts_with_the_key_in_daarion_api_key(stack: Stack) -> None:
    env = {**os.environ, "DAARION_PROJECTS_URL": stack.projects, "DAARION_API_KEY": stack.keys["sofia"],
           "PYTHONPATH": str(REPO)}
    params = StdioServerParameters(command=sys.executable, cwd=str(REPO), env=env,
                                   args=["-m", "apps.cli", "toolcore", "mcp"])
    async with Client(params) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("math.eval", {"expression": "6 * 7"})
        projects = await client.call_tool("projects.list", {})
        denied = await client.call_tool("shell.run", {"cmd": "id"})
    assert "projects.list" in names and "echo.headers" not in names  # the shipped config, not the test one
    assert body_of(result)["result"]["value"] == 42
    assert "Project X" in [p["name"] for p in body_of(projects)["result"]["projects"]]  # the key went along
    assert denied.is_error is True and body_of(denied)["error"]["type"] == "permission_denied"


def test_the_stdio_server_refuses_to_start_without_a_key(stack: Stack, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DAARION_API_KEY"}
    env.update(PYTHONPATH=str(REPO), DAARION_KEYS_FILE=str(tmp_path / "keys.json"))
    finished = subprocess.run([sys.executable, "-m", "apps.cli", "toolcore", "mcp"], cwd=REPO, env=env, check=False,
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert finished.returncode != 0 and "DAARION_API_KEY" in finished.stderr
    assert finished.stdout == ""


def test_the_stdio_server_refuses_a_key_the_database_does_not_know(stack: Stack) -> None:
    env = {**os.environ, "DAARION_API_KEY": "dk_0000000000000000_" + "x" * 43, "PYTHONPATH": str(REPO)}
    finished = subprocess.run([sys.executable, "-m", "apps.cli", "toolcore", "mcp"], cwd=REPO, env=env, check=False,
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert finished.returncode != 0 and "the API key was refused" in finished.stderr
    assert finished.stdout == ""
