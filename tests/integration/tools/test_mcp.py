"""Toolcore as an MCP server, driven by the `mcp` package's own client: over streamable HTTP at /mcp,
and over stdio (`daarion toolcore mcp`)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.integration.tools.toolcore_stack import REPO, TOKEN, Stack, stack_fixture  # noqa: F401 - the `stack` fixture


def http_client(stack: Stack, agent_id: str | None = "agent:sofia", microdao_id: str | None = "microdao:7",
                request_id: str | None = None) -> Client:
    headers = {"authorization": f"Bearer {TOKEN}"}
    if agent_id:
        headers["x-agent-id"] = agent_id
    if microdao_id:
        headers["x-microdao-id"] = microdao_id
    if request_id:
        headers["x-request-id"] = request_id
    transport = streamable_http_client(f"{stack.toolcore}/mcp", http_client=httpx2.AsyncClient(headers=headers))
    return Client(transport)


def body_of(result: Any) -> dict[str, Any]:
    return json.loads(result.content[0].text)


async def test_tools_list_over_http_shows_only_what_the_agent_may_call(stack: Stack) -> None:
    async with http_client(stack) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert {"projects.list", "tasks.list", "task.create", "math.eval"} <= names
    async with http_client(stack, agent_id="agent:mallory") as client:
        assert (await client.list_tools()).tools == []


async def test_tools_call_over_http_runs_through_the_ledger(stack: Stack) -> None:
    async with http_client(stack, request_id="req_mcp_call_1") as client:
        result = await client.call_tool("tasks.list", {"project_id": "prj_project_x", "limit": 2})
    assert result.is_error is False
    assert len(body_of(result)["result"]["tasks"]) == 2
    [event] = stack.tool_events("req_mcp_call_1")
    assert (event.status, event.tool_id, event.agent_id) == ("succeeded", "tasks.list", "agent:sofia")


async def test_a_denied_call_comes_back_as_an_is_error_result_and_is_recorded(stack: Stack) -> None:
    async with http_client(stack, agent_id="agent:mallory", request_id="req_mcp_denied") as client:
        result = await client.call_tool("task.create", {"project_id": "prj_project_x", "title": "sneaky"})
    assert result.is_error is True
    assert body_of(result)["error"]["type"] == "permission_denied"
    assert stack.tool_events("req_mcp_denied")[0].status == "denied"


async def test_invalid_arguments_come_back_as_an_is_error_result_with_paths(stack: Stack) -> None:
    async with http_client(stack) as client:
        result = await client.call_tool("tasks.list", {"project_id": 12})
    assert result.is_error is True
    assert body_of(result)["error"]["errors"][0]["path"] == "$.project_id"


async def test_mcp_over_http_needs_the_internal_token(stack: Stack) -> None:
    transport = streamable_http_client(f"{stack.toolcore}/mcp",
                                       http_client=httpx2.AsyncClient(headers={"x-agent-id": "agent:sofia"}))
    with pytest.raises(ExceptionGroup) as raised:
        async with Client(transport) as client:
            await client.list_tools()
    assert raised.group_contains(MCPError)
    async with httpx.AsyncClient() as plain_client:
        plain = await plain_client.post(f"{stack.toolcore}/mcp", json={"jsonrpc": "2.0", "id": 1,
                                                                        "method": "tools/list"})
    assert plain.status_code == 401


async def test_the_stdio_server_speaks_for_the_agent_it_was_started_for(stack: Stack, tmp_path: Path) -> None:
    env = {**os.environ, "DAARION_PROJECTS_URL": stack.projects, "DAARION_INTERNAL_TOKEN": TOKEN,
           "PYTHONPATH": str(REPO)}
    params = StdioServerParameters(
        command=sys.executable, cwd=str(REPO), env=env,
        args=["-m", "apps.cli", "toolcore", "mcp", "--agent-id", "agent:sofia", "--microdao-id", "microdao:7"],
    )
    async with Client(params) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("math.eval", {"expression": "6 * 7"})
        denied = await client.call_tool("shell.run", {"cmd": "id"})
    assert "projects.list" in names and "echo.headers" not in names  # the shipped config, not the test one
    assert body_of(result)["result"]["value"] == 42
    assert denied.is_error is True and body_of(denied)["error"]["type"] == "permission_denied"
