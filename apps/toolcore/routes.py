"""Toolcore HTTP handlers: thin; the ToolService decides. Internal routes (bearer token)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, QueryParameter

from apps.common.auth import internal_guard
from apps.common.container import Injected
from apps.common.requests import request_id_of
from apps.toolcore.container import ToolcoreContainer
from apps.toolcore.schemas import OpenAIToolList, ToolCallRequest, ToolList, ToolView, call_response
from domain.kernel.ids import SUBJECT_ID_PATTERN
from domain.tools.model import ToolCall, openai_tool

Toolcore = Injected[ToolcoreContainer]
Subject = Annotated[str, QueryParameter(pattern=SUBJECT_ID_PATTERN)]
OptionalSubject = Annotated[str | None, QueryParameter(pattern=SUBJECT_ID_PATTERN, required=False)]
Format = Annotated[Literal["native", "openai"], QueryParameter(name="format", required=False)]




class ToolsController(Controller):
    path = "/internal/tools"
    guards = (internal_guard(),)

    @get("/")
    async def list_tools(
        self, container: Toolcore, agent_id: Subject, microdao_id: OptionalSubject = None,
        output: Format = "native",
    ) -> ToolList | OpenAIToolList:
        tools = container.service.tools_for(agent_id, microdao_id)
        if output == "openai":
            return OpenAIToolList([openai_tool(tool) for tool in tools])
        return ToolList(agent_id, microdao_id, [ToolView.of(tool) for tool in tools])

    @post("/call", status_code=200)
    async def call_tool(
        self, request: Request[Any, Any, Any], container: Toolcore, data: JSONBody[ToolCallRequest],
    ) -> Response[dict[str, Any]]:
        request_id = request_id_of(request)
        call = ToolCall(request_id, data.tool_id, data.agent_id, data.args, data.microdao_id, data.idempotency_key)
        outcome = await container.service.call(call)
        return Response(call_response(outcome), headers={"x-request-id": request_id})
