"""The agent runtime's one route: a message in, a turn out (JSON, or SSE with `?stream=true`). The caller
presents the agent's own key, and the turn acts with it (apps/agent_runtime/identity.py)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from litestar import Request, Response, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Stream

from apps.agent_runtime.container import RuntimeContainer
from apps.agent_runtime.identity import acting_agent, turn_context
from apps.agent_runtime.schemas import (
    DeltaEvent,
    MemoriesEvent,
    MessageIn,
    TurnResponse,
    response_body,
    server_timing,
    sse,
)
from apps.common.auth import requires
from apps.common.container import Injected
from apps.common.openapi import answer, errors
from apps.common.requests import request_id_of
from apps.common.sse import sse_error
from apps.common.structs import ErrorBody
from domain.agents.model import MemoriesRecalled, ToolRun, TurnContext, TurnDone, TurnEvent, TurnResult
from domain.identity.scopes import Scope
from domain.kernel.errors import DaarionError
from infra.agents.prometheus_metrics import AgentMetrics

log = logging.getLogger(__name__)
TURN_RESPONSES = {
    **answer(TurnResponse, "The turn; with `?stream=true`, Server-Sent Events instead: `memories`, then `tool_call` "
             "and `delta` events as they happen, then `done` with the whole turn (or `error`).", events={
                 "memories": [MemoriesEvent], "tool_call": [ToolRun], "delta": [DeltaEvent], "done": [TurnResponse],
                 "error": [ErrorBody]}),
    **errors(402, 404, 429, 502, 504),
}


@post("/internal/agents/{agent_id:str}/messages", guards=[requires(Scope.LLM)], status_code=200,
      responses=TURN_RESPONSES)
async def post_message(
    request: Request[Any, Any, Any], agent_id: FromPath[str], data: JSONBody[MessageIn],
    container: Injected[RuntimeContainer], stream: FromQuery[bool] = False,
) -> Response[Any]:
    runtime, metrics = container.runtime, container.metrics
    # Identity before existence: a key never learns which other agents this runtime serves.
    profile = container.profiles.agent(acting_agent(request, agent_id, data.microdao_id))
    request_id = request_id_of(request)
    context = turn_context(request, profile, request_id, data.channel_id, data.user_id)
    started = time.perf_counter()
    if stream:
        return await _stream(runtime.events(profile, context, data.text, stream=True), context, metrics, started)
    try:
        result = await runtime.turn(profile, context, data.text)
    except DaarionError:
        metrics.turn_finished(profile.id, "failed", time.perf_counter() - started, [], False)
        raise
    _finished(metrics, profile.id, result, started)
    return Response(response_body(result), headers={"x-request-id": request_id, "server-timing": server_timing(result)})


async def _stream(
    events: AsyncGenerator[TurnEvent, None], context: TurnContext, metrics: AgentMetrics, started: float,
) -> Stream:
    """Events are held back until the model has answered once, so a proxy that is down, a budget that is
    spent or a rate limit still gets a real HTTP status instead of an error inside a 200 stream."""
    held: list[TurnEvent] = []
    try:
        async for event in events:
            held.append(event)
            if not isinstance(event, MemoriesRecalled):
                break
    except DaarionError:
        metrics.turn_finished(context.agent_id, "failed", time.perf_counter() - started, [], False)
        raise

    async def body() -> AsyncIterator[bytes]:
        try:
            for event in held:
                yield sse(event)
                _note_done(event, metrics, context.agent_id, started)
            async for event in events:
                yield sse(event)
                _note_done(event, metrics, context.agent_id, started)
        except DaarionError as exc:
            metrics.turn_finished(context.agent_id, "failed", time.perf_counter() - started, [], False)
            yield sse_error(exc.type, exc.message, context.request_id, event="error")
        except Exception:
            log.exception("turn %s failed mid-stream", context.request_id)
            yield sse_error("internal_error", "the turn failed inside the agent runtime", context.request_id,
                            event="error")
        finally:
            await events.aclose()

    return Stream(body(), media_type="text/event-stream",
                  headers={"x-request-id": context.request_id, "cache-control": "no-cache"})


def _note_done(event: TurnEvent, metrics: AgentMetrics, agent_id: str, started: float) -> None:
    if isinstance(event, TurnDone):
        _finished(metrics, agent_id, event.result, started)


def _finished(metrics: AgentMetrics, agent_id: str, result: TurnResult, started: float) -> None:
    metrics.turn_finished(agent_id, "completed", time.perf_counter() - started,
                          [(run.tool_id, run.status) for run in result.tool_calls], bool(result.warnings))


ROUTES = [post_message]
