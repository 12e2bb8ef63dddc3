"""The tool registry as an MCP server (official `mcp` SDK, low-level Server), over the same ToolService.

Who is calling: over streamable HTTP (`/mcp`) the agent is named by the `X-Agent-Id` header and,
optionally, `X-Microdao-Id` (the route sits behind the internal bearer token, like every internal
route; a request without `X-Agent-Id` is refused). Over stdio the process speaks for one agent,
fixed at start (`daarion toolcore mcp --agent-id ...`). tools/list shows only what that agent may
call; tools/call runs the same permission check, schema validation, executors and ledger as
`POST /internal/tools/call`, and every refusal or failure comes back as an `isError` result.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import mcp_types as types
import msgspec
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError

from domain.kernel.errors import ArgumentsInvalid, DaarionError
from domain.kernel.ids import SUBJECT_ID
from domain.tools.model import ToolCall, ToolDefinition
from domain.tools.service import ToolService


class McpIdentity(msgspec.Struct, frozen=True):
    agent_id: str
    microdao_id: str | None = None


IdentityOf = Callable[[ServerRequestContext[Any, Any]], McpIdentity]


def identity_from_headers(ctx: ServerRequestContext[Any, Any]) -> McpIdentity:
    headers = getattr(ctx.request, "headers", None) or {}
    agent_id = headers.get("x-agent-id", "")
    microdao_id = headers.get("x-microdao-id") or None
    if not SUBJECT_ID.match(agent_id) or (microdao_id is not None and not SUBJECT_ID.match(microdao_id)):
        raise MCPError(types.INVALID_REQUEST, "name the calling agent with an X-Agent-Id header "
                                              "(and its microDAO with X-Microdao-Id)")
    return McpIdentity(agent_id, microdao_id)


def fixed_identity(identity: McpIdentity) -> IdentityOf:
    return lambda _ctx: identity


def build_mcp_server(service: ToolService, identity_of: IdentityOf) -> Server[Any]:
    async def list_tools(
        ctx: ServerRequestContext[Any, Any], _params: types.PaginatedRequestParams | None,
    ) -> types.ListToolsResult:
        who = identity_of(ctx)
        return types.ListToolsResult(tools=[_mcp_tool(t) for t in service.tools_for(who.agent_id,
                                                                                         who.microdao_id)])

    async def call_tool(ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams) -> types.CallToolResult:
        who = identity_of(ctx)
        call = ToolCall(_request_id(ctx), params.name, who.agent_id, dict(params.arguments or {}), who.microdao_id)
        try:
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
