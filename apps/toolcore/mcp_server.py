"""The tool registry as an MCP server (official `mcp` SDK, low-level Server), over the same ToolService.

Who is calling is the bearer key's agent, never a header or an argument. Over streamable HTTP (`/mcp`)
the gate in apps/toolcore/mcp_http.py authenticates every request (401 with the protected-resource
metadata, 403 for a missing scope or a forged `X-Agent-Id`) and leaves the caller on the ASGI scope. Over
stdio the process holds one key (`DAARION_API_KEY`) and checks it again on every request, so revoking it
stops the server's tools within a second. tools/list needs `tools:list` and shows only what that agent
may call; tools/call needs `tools:call` and runs the same permission check, identity-argument check,
schema validation, executors and ledger as `POST /internal/tools/call`; every refusal or failure of a
call comes back as an `isError` result.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import mcp_types as types
import msgspec
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError

from domain.identity.ports import Authenticator
from domain.identity.principal import Principal, Tenant
from domain.identity.scopes import Scope
from domain.kernel.credential import Credential
from domain.kernel.errors import ArgumentsInvalid, DaarionError
from domain.kernel.ids import SUBJECT_ID
from domain.tools.model import ToolCall, ToolDefinition
from domain.tools.service import ToolService

MCP_CALLER = "daarion.mcp_caller"  # the ASGI scope key under which the HTTP gate leaves the caller


@dataclass(frozen=True, slots=True)
class McpCaller:
    principal: Principal
    credential: Credential


CallerOf = Callable[[ServerRequestContext[Any, Any]], Awaitable[McpCaller]]


async def caller_from_scope(ctx: ServerRequestContext[Any, Any]) -> McpCaller:
    scope = getattr(ctx.request, "scope", None) or {}
    found = scope.get(MCP_CALLER)
    if not isinstance(found, McpCaller):  # only reachable if the gate was bypassed: refuse, never guess
        raise MCPError(types.INVALID_REQUEST, "this request was not authenticated")
    return found


def authenticating(authenticator: Authenticator, key: str) -> CallerOf:
    async def caller_of(_ctx: ServerRequestContext[Any, Any]) -> McpCaller:
        try:
            return McpCaller(await authenticator.authenticate(key), Credential(key))
        except DaarionError as exc:
            raise MCPError(types.INVALID_REQUEST, exc.message) from None

    return caller_of


def build_mcp_server(service: ToolService, caller_of: CallerOf) -> Server[Any]:
    async def list_tools(
        ctx: ServerRequestContext[Any, Any], _params: types.PaginatedRequestParams | None,
    ) -> types.ListToolsResult:
        try:
            who = _tenant((await caller_of(ctx)).principal, Scope.TOOLS_LIST)
        except DaarionError as exc:
            raise MCPError(types.INVALID_REQUEST, exc.message) from None
        return types.ListToolsResult(tools=[_mcp_tool(t) for t in service.tools_for(who.agent_id, who.microdao_id)])

    async def call_tool(ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams) -> types.CallToolResult:
        caller = await caller_of(ctx)
        try:
            who = _tenant(caller.principal, Scope.TOOLS_CALL)
            call = ToolCall(_request_id(ctx), params.name, who.agent_id, dict(params.arguments or {}),
                            who.microdao_id, credential=caller.credential)
            outcome = await service.call(call)
        except DaarionError as exc:
            error: dict[str, Any] = {"type": exc.type, "message": exc.message}
            if isinstance(exc, ArgumentsInvalid):
                error["errors"] = exc.errors
            return _result({"ok": False, "error": error}, is_error=True)
        if outcome.ok:
            return _result({"ok": True, "result": outcome.result, "latency_ms": outcome.latency_ms}, is_error=False)
        return _result({"ok": False, "error": msgspec.to_builtins(outcome.error),
                        "latency_ms": outcome.latency_ms}, is_error=True)

    return Server("daarion-toolcore", version="0.1.0", on_list_tools=list_tools, on_call_tool=call_tool)


def _tenant(principal: Principal, scope: Scope) -> Tenant:
    principal.require(scope)
    return principal.tenant()


def _mcp_tool(tool: ToolDefinition) -> types.Tool:
    hints = types.ToolAnnotations(read_only_hint=tool.read_only, destructive_hint=tool.destructive,
                                  idempotent_hint=tool.idempotent)
    return types.Tool(name=tool.id, description=tool.description, input_schema=tool.input_schema,
                      annotations=hints)


def _result(body: dict[str, Any], is_error: bool) -> types.CallToolResult:
    text = msgspec.json.encode(body).decode()
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=body,
                                is_error=is_error)


def _request_id(ctx: ServerRequestContext[Any, Any]) -> str:
    headers = getattr(ctx.request, "headers", None) or {}
    incoming = headers.get("x-request-id", "")
    return incoming if SUBJECT_ID.match(incoming) else f"req_{uuid.uuid4().hex}"
