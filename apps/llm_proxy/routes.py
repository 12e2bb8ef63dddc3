"""Thin HTTP adapters of the LLM proxy's chat, models and usage: decode, call the gateway, encode."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody
from litestar.response import Stream

from apps.common.auth import caller, requires
from apps.common.container import Injected
from apps.common.edge import LARGE_BODY_BYTES
from apps.common.errors import status_of
from apps.common.openapi import answer, errors
from apps.common.requests import request_id_of
from apps.common.sse import sse_error
from apps.common.structs import ErrorBody, OpenAIErrorBody
from apps.llm_proxy.container import ProxyContainer
from apps.llm_proxy.headers import answer_headers, refusal
from apps.llm_proxy.models import model_card, model_cards
from apps.llm_proxy.schemas import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatParameters,
    Choice,
    ModelCard,
    ModelList,
    OpenAIChatRequest,
    ProxyRequest,
    ResponseMessage,
    UsageBody,
)
from apps.llm_proxy.usage_routes import usage_report
from domain.identity.scopes import Scope
from domain.kernel.errors import DaarionError, UnknownModel
from domain.llm.bookkeeping import CallContext
from domain.llm.gateway import StreamSummary
from domain.llm.parameters import OBFUSCATION
from domain.llm.policies import ChatChunk, ChatRequest

_OPTIONAL = ("presence_penalty", "frequency_penalty", "parallel_tool_calls", "user", "logprobs", "top_logprobs",
             "logit_bias", "reasoning_effort", "service_tier", "verbosity", "modalities", "audio", "prediction",
             "web_search_options", "prompt_cache_key", "safety_identifier", "store")
_encode = msgspec.json.encode
log = logging.getLogger(__name__)
AnyRequest = Request[Any, Any, Any]


def _chat_responses(error_body: type) -> dict[int, Any]:
    return {
        **answer(ChatCompletion, "The completion; with `stream: true`, Server-Sent Events instead: "
                 "chat.completion.chunk objects, then `[DONE]` (a failure after the stream started is an error body, "
                 "and no `[DONE]`).", events={"message": [ChatCompletionChunk, error_body, "[DONE]"]}),
        **errors(402, 404, 429, 502, 504),
    }


@post("/internal/llm/proxy", guards=[requires(Scope.LLM)], status_code=200, responses=_chat_responses(ErrorBody),
      summary="Chat completion (OpenAI parameters, optional metadata)", request_max_body_size=LARGE_BODY_BYTES)
async def proxy_chat(
    request: AnyRequest, data: JSONBody[ProxyRequest], container: Injected[ProxyContainer],
) -> Response[Any]:
    metadata = data.metadata
    return await chat(data, call_of(request, data.model, metadata.agent_id, metadata.microdao_id), container,
                      request.url.path)


@post("/v1/chat/completions", guards=[requires(Scope.LLM)], status_code=200,
      responses=_chat_responses(OpenAIErrorBody), summary="Chat completion (OpenAI-compatible)",
      request_max_body_size=LARGE_BODY_BYTES)
async def openai_chat(
    request: AnyRequest, data: JSONBody[OpenAIChatRequest], container: Injected[ProxyContainer],
) -> Response[Any]:
    return await chat(data, call_of(request, data.model), container, request.url.path)


@get("/v1/models", guards=[requires(Scope.LLM)], summary="List models (with whether each can answer now)")
async def openai_models(container: Injected[ProxyContainer]) -> ModelList:
    return ModelList(model_cards(container))


@get("/v1/models/{model_id:path}", guards=[requires(Scope.LLM)], summary="Retrieve a model", responses=errors(404))
async def openai_model(model_id: FromPath[str], container: Injected[ProxyContainer]) -> ModelCard:
    name = model_id.lstrip("/")  # a path parameter, as model names may hold slashes ("org/model")
    card = model_card(container, name)
    if card is None:
        raise UnknownModel(f"model '{name}' is not configured; see GET /v1/models", param="model")
    return card


def call_of(request: AnyRequest, model: str, agent_id: str | None = None, microdao_id: str | None = None) -> CallContext:
    principal = caller(request)
    tenant = principal.tenant(agent_id, microdao_id)
    return CallContext(request_id_of(request), tenant.agent_id, tenant.microdao_id, model,
                       key_id=principal.key_id, key_budget_usd=principal.monthly_budget_usd)


def chat_request(params: ChatParameters) -> ChatRequest:
    extra = {name: getattr(params, name) for name in _OPTIONAL if getattr(params, name) is not None}
    if params.stream_options is not None and params.stream_options.include_obfuscation is not None:
        extra[OBFUSCATION] = params.stream_options.include_obfuscation
    return ChatRequest(
        messages=[msgspec.to_builtins(message) for message in params.messages],
        temperature=params.temperature, top_p=params.top_p,
        max_tokens=params.max_tokens or params.max_completion_tokens, stop=params.stop, tools=params.tools,
        tool_choice=params.tool_choice, response_format=params.response_format, seed=params.seed, extra=extra,
    )


async def chat(params: ChatParameters, call: CallContext, container: ProxyContainer, path: str) -> Response[Any]:
    started = time.perf_counter()
    gateway, metrics = container.gateway, container.metrics
    endpoint = "v1" if path.startswith("/v1/") else "internal"
    try:
        if params.stream:
            return await _stream(container, call, params, started, path)
        completion = await gateway.complete(call, chat_request(params))
    except DaarionError as exc:
        metrics.observe_request(endpoint, status_of(exc), time.perf_counter() - started, None)
        if (refused := refusal(exc, path, call.request_id)) is not None:
            return refused
        raise
    result = completion.result
    usage_body = UsageBody(result.usage.prompt_tokens, result.usage.completion_tokens, result.usage.total_tokens)
    body = ChatCompletion(
        id=f"chatcmpl-{call.request_id}", created=int(time.time()), model=params.model,
        choices=[Choice(0, ResponseMessage("assistant", result.content, result.tool_calls), result.finish_reason)],
        usage=usage_body,
    )
    elapsed = time.perf_counter() - started
    overhead_ms = max(elapsed * 1000 - completion.upstream_ms, 0.0)
    metrics.observe_request(endpoint, 200, elapsed, overhead_ms / 1000)
    return Response(_encode(body), media_type="application/json", headers=answer_headers(
        call.request_id, completion.provider, completion.physical_model, completion.quota, completion.cost_usd,
        completion.dropped, overhead_ms))


async def _stream(
    container: ProxyContainer, call: CallContext, params: ChatParameters, started: float, path: str,
) -> Stream:
    summary = StreamSummary()
    chunks = container.gateway.stream(call, chat_request(params), summary)
    first = await anext(chunks)  # admission, routing and fallback errors still get a real HTTP status
    overhead_ms = max((time.perf_counter() - started) * 1000 - summary.first_chunk_wait_ms, 0.0)
    endpoint = "v1" if path.startswith("/v1/") else "internal"
    container.metrics.observe_request(endpoint, 200, time.perf_counter() - started, overhead_ms / 1000)
    # OpenAI sends the usage chunk only when asked; the DAARION route always did, and its clients rely on it.
    # The ledger records the usage either way.
    asked = params.stream_options.include_usage if params.stream_options is not None else None
    include_usage = asked if asked is not None else endpoint == "internal"
    envelope = {"id": f"chatcmpl-{call.request_id}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": params.model}

    async def events() -> AsyncIterator[bytes]:
        try:
            yield _sse(envelope, first, summary)
            async for chunk in chunks:
                if chunk.usage is None or include_usage:
                    yield _sse(envelope, chunk, summary)
            yield b"data: [DONE]\n\n"
        except DaarionError as exc:
            yield sse_error(exc.type, exc.message, call.request_id, path=path, status=status_of(exc))
        except Exception:
            log.exception("stream %s failed", call.request_id)
            yield sse_error("internal_error", "the stream failed inside the proxy", call.request_id, path=path,
                            status=500)
        finally:
            await chunks.aclose()

    return Stream(events(), media_type="text/event-stream", headers={
        **answer_headers(call.request_id, summary.provider, summary.physical_model, summary.quota,
                         dropped=summary.dropped, overhead_ms=overhead_ms, costed=False),
        "cache-control": "no-cache"})


def _sse(envelope: dict[str, Any], chunk: ChatChunk, summary: StreamSummary) -> bytes:
    if chunk.usage is not None:
        usage = chunk.usage
        cost = None if summary.cost_usd is None else f"{summary.cost_usd.normalize():f}"
        payload = {**envelope, "choices": [], "usage": {
            "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens, "cost_usd": cost}}
    else:
        payload = {**envelope, "choices": [{"index": 0, "delta": chunk.delta, "finish_reason": chunk.finish_reason}]}
    return b"data: " + _encode(payload) + b"\n\n"


ROUTES = [proxy_chat, openai_chat, openai_models, openai_model, usage_report]
