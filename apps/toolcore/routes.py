"""Toolcore HTTP handlers: thin; the ToolService decides. The caller is the key's agent and microDAO; ids a
request names (query, body) may only repeat them (403 identity_mismatch otherwise)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, QueryParameter

from apps.common.auth import bearer_token, caller, requires
from apps.common.container import Injected
from apps.common.openapi import answer, errors
from apps.common.requests import request_id_of
from apps.toolcore.container import ToolcoreContainer
from apps.toolcore.schemas import (
    OpenAIToolList,
    ToolCallRequest,
    ToolCallResponse,
    ToolList,
    ToolView,
    call_response,
)
from domain.identity.scopes import Scope
from domain.kernel.credential import Credential
from domain.kernel.ids import SUBJECT_ID_PATTERN
from domain.tools.model import ToolCall, openai_tool

Toolcore = Injected[ToolcoreContainer]
AnyRequest = Request[Any, Any, Any]
OptionalSubject = Annotated[str | None, QueryParameter(pattern=SUBJECT_ID_PATTERN, required=False)]
Format = Annotated[Literal["native", "openai"], QueryParameter(name="format", required=False)]


class ToolsController(Controller):
    path = "/internal/tools"

    @get("/", guards=[requires(Scope.TOOLS_LIST)])
    async def list_tools(
        self, request: AnyRequest, container: Toolcore, agent_id: OptionalSubject = None,
        microdao_id: OptionalSubject = None, output: Format = "native",
    ) -> ToolList | OpenAIToolList:
        who = caller(request).tenant(agent_id, microdao_id)
        tools = container.service.tools_for(who.agent_id, who.microdao_id)
        if output == "openai":
            return OpenAIToolList([openai_tool(tool) for tool in tools])
        return ToolList(who.agent_id, who.microdao_id, [ToolView.of(tool) for tool in tools])

    @post("/call", status_code=200, guards=[requires(Scope.TOOLS_CALL)], responses={
        **answer(ToolCallResponse, "The call's outcome: a failure of the tool itself is `ok: false`, not an HTTP error."),
        **errors(404, 409, 422),
    })
    async def call_tool(
        self, request: AnyRequest, container: Toolcore, data: JSONBody[ToolCallRequest],
    ) -> Response[dict[str, Any]]:
        who = caller(request).tenant(data.agent_id, data.microdao_id)
        request_id = request_id_of(request)
        key = bearer_token(request)
        call = ToolCall(request_id, data.tool_id, who.agent_id, data.args, who.microdao_id, data.idempotency_key,
                        Credential(key) if key else None)
        outcome = await container.service.call(call)
        return Response(call_response(outcome), headers={"x-request-id": request_id})
