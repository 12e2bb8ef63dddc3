"""POST /v1/responses: the Responses API's text and function-tool cases, answered by the chat gateway (the same
routing, limits, budgets and ledger as /v1/chat/completions)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.params import JSONBody
from litestar.response import Stream

from apps.common.auth import requires
from apps.common.container import Injected
from apps.common.edge import LARGE_BODY_BYTES
from apps.common.errors import status_of
from apps.common.openapi import answer, errors
from apps.llm_proxy.container import ProxyContainer
from apps.llm_proxy.headers import answer_headers, refusal
from apps.llm_proxy.responses_schemas import (
    ArgumentsDeltaEvent,
    ArgumentsDoneEvent,
    ContentPartEvent,
    ErrorEvent,
    LifecycleEvent,
    OutputItemEvent,
    ResponseObject,
    ResponsesRequest,
    TextDeltaEvent,
    TextDoneEvent,
)
from apps.llm_proxy.responses_stream import ResponseEvents
from apps.llm_proxy.responses_translate import chat_request_of, response_of
from apps.llm_proxy.routes import call_of
from domain.identity.scopes import Scope
from domain.kernel.errors import DaarionError
from domain.llm.bookkeeping import CallContext
from domain.llm.gateway import StreamSummary

log = logging.getLogger(__name__)
_EVENTS = {"response.created": [LifecycleEvent], "response.in_progress": [LifecycleEvent],
           "response.output_item.added": [OutputItemEvent], "response.content_part.added": [ContentPartEvent],
           "response.output_text.delta": [TextDeltaEvent], "response.output_text.done": [TextDoneEvent],
           "response.content_part.done": [ContentPartEvent],
           "response.function_call_arguments.delta": [ArgumentsDeltaEvent],
           "response.function_call_arguments.done": [ArgumentsDoneEvent],
           "response.output_item.done": [OutputItemEvent], "response.completed": [LifecycleEvent],
           "response.incomplete": [LifecycleEvent], "error": [ErrorEvent]}


@post("/v1/responses", guards=[requires(Scope.LLM)], status_code=200, summary="Create a model response",
      request_max_body_size=LARGE_BODY_BYTES, responses={
          **answer(ResponseObject, "The response; with `stream: true`, Server-Sent Events instead, named by their "
                   "`type` (response.created ... response.completed, or `error` if the stream broke).",
                   events=_EVENTS),  # type: ignore[arg-type]
          **errors(402, 404, 429, 502, 504)})
async def openai_responses(
    request: Request[Any, Any, Any], data: JSONBody[ResponsesRequest], container: Injected[ProxyContainer],
) -> Response[Any]:
    started = time.perf_counter()
    call = call_of(request, data.model)
    response_id = f"resp_{call.request_id}"
    chat = chat_request_of(data)
    try:
        if data.stream:
            return await _stream(container, call, data, chat, response_id, started)
        completion = await container.gateway.complete(call, chat)
    except DaarionError as exc:
        container.metrics.observe_request("v1", status_of(exc), time.perf_counter() - started, None)
        if (refused := refusal(exc, request.url.path, call.request_id)) is not None:
            return refused
        raise
    elapsed = time.perf_counter() - started
    overhead_ms = max(elapsed * 1000 - completion.upstream_ms, 0.0)
    container.metrics.observe_request("v1", 200, elapsed, overhead_ms / 1000)
    body = response_of(data, response_id, completion.result)
    return Response(msgspec.json.encode(body), media_type="application/json", headers=answer_headers(
        call.request_id, completion.provider, completion.physical_model, completion.quota, completion.cost_usd,
        completion.dropped, overhead_ms))


async def _stream(container: ProxyContainer, call: CallContext, data: ResponsesRequest, chat: Any, response_id: str,
                  started: float) -> Stream:
    summary = StreamSummary()
    chunks = container.gateway.stream(call, chat, summary)
    first = await anext(chunks)  # admission, routing and fallback errors still get a real HTTP status
    overhead_ms = max((time.perf_counter() - started) * 1000 - summary.first_chunk_wait_ms, 0.0)
    container.metrics.observe_request("v1", 200, time.perf_counter() - started, overhead_ms / 1000)
    events = ResponseEvents(data, response_id)

    async def body() -> AsyncIterator[bytes]:
        try:
            yield events.start() + events.add(first)
            async for chunk in chunks:
                yield events.add(chunk)
        except DaarionError as exc:
            yield events.failed(exc.type, exc.message)
        except Exception:
            log.exception("responses stream %s failed", call.request_id)
            yield events.failed("internal_error", "the stream failed inside the proxy")
        finally:
            await chunks.aclose()

    return Stream(body(), media_type="text/event-stream", headers={
        **answer_headers(call.request_id, summary.provider, summary.physical_model, summary.quota,
                         dropped=summary.dropped, overhead_ms=overhead_ms, costed=False),
        "cache-control": "no-cache"})


ROUTES = [openai_responses]
