"""Thin HTTP adapters of the LLM proxy: decode, call the gateway, encode."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import JSONBody
from litestar.response import Stream

from apps.common.auth import caller, requires
from apps.common.container import Injected
from apps.common.edge import LARGE_BODY_BYTES
from apps.common.errors import status_of
from apps.common.openapi import answer, errors
from apps.common.requests import request_id_of
from apps.common.sse import sse_error
from apps.common.structs import ErrorBody, ErrorDetail
from apps.llm_proxy.container import ProxyContainer
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
from domain.kernel.errors import DaarionError, RateLimited
from domain.llm.admission import Quota
from domain.llm.bookkeeping import CallContext
from domain.llm.gateway import LlmGateway, StreamSummary
from domain.llm.policies import ChatChunk, ChatRequest
from infra.llm.prometheus_metrics import ProxyMetrics

_PASS_THROUGH = ("presence_penalty", "frequency_penalty", "parallel_tool_calls", "user")
_encode = msgspec.json.encode
log = logging.getLogger(__name__)
AnyRequest = Request[Any, Any, Any]
CHAT_RESPONSES = {
    **answer(ChatCompletion, "The completion; with `stream: true`, Server-Sent Events instead: chat.completion.chunk "
             "objects, then `[DONE]` (a failure after the stream started is an error body, and no `[DONE]`).",
             events={"message": [ChatCompletionChunk, ErrorBody, "[DONE]"]}),
    **errors(402, 404, 429, 502, 504),
}


@post("/internal/llm/proxy", guards=[requires(Scope.LLM)], status_code=200, responses=CHAT_RESPONSES,
      summary="Chat completion (OpenAI parameters, optional metadata)", request_max_body_size=LARGE_BODY_BYTES)
async def proxy_chat(
    request: AnyRequest, data: JSONBody[ProxyRequest], container: Injected[ProxyContainer],
) -> Response[Any]:
    metadata = data.metadata
    return await _chat(data, _call(request, data.model, metadata.agent_id, metadata.microdao_id), container,
                       "internal")


@post("/v1/chat/completions", guards=[requires(Scope.LLM)], status_code=200, responses=CHAT_RESPONSES,
      summary="Chat completion (OpenAI-compatible)", request_max_body_size=LARGE_BODY_BYTES)
async def openai_chat(
    request: AnyRequest, data: JSONBody[OpenAIChatRequest], container: Injected[ProxyContainer],
) -> Response[Any]:
    return await _chat(data, _call(request, data.model), container, "v1")


@get("/v1/models", guards=[requires(Scope.LLM)], summary="List models")
async def openai_models(container: Injected[ProxyContainer]) -> ModelList:
    return ModelList([ModelCard(model) for model in container.gateway.models])


def _call(request: AnyRequest, model: str, agent_id: str | None = None, microdao_id: str | None = None) -> CallContext:
    principal = caller(request)
    tenant = principal.tenant(agent_id, microdao_id)
    return CallContext(request_id_of(request), tenant.agent_id, tenant.microdao_id, model,
                       key_id=principal.key_id, key_budget_usd=principal.monthly_budget_usd)


def _chat_request(params: ChatParameters) -> ChatRequest:
    extra = {name: getattr(params, name) for name in _PASS_THROUGH if getattr(params, name) is not None}
    return ChatRequest(
        messages=[msgspec.to_builtins(message) for message in params.messages],
        temperature=params.temperature, top_p=params.top_p,
        max_tokens=params.max_tokens or params.max_completion_tokens, stop=params.stop, tools=params.tools,
        tool_choice=params.tool_choice, response_format=params.response_format, seed=params.seed, extra=extra,
    )


async def _chat(
    params: ChatParameters, call: CallContext, container: ProxyContainer, endpoint: str,
) -> Response[Any]:
    started = time.perf_counter()
    gateway, metrics = container.gateway, container.metrics
    request_id = call.request_id
    try:
        if params.stream:
            return await _stream(gateway, call, params, started, metrics, endpoint)
        completion = await gateway.complete(call, _chat_request(params))
    except DaarionError as exc:
        status = status_of(exc)
        metrics.observe_request(endpoint, status, time.perf_counter() - started, None)
        quota = getattr(exc, "quota", None)
        if isinstance(quota, Quota):
            return _refusal(exc, status, request_id, quota)
        raise
    result = completion.result
    usage_body = UsageBody(result.usage.prompt_tokens, result.usage.completion_tokens, result.usage.total_tokens)
    body = ChatCompletion(
        id=f"chatcmpl-{request_id}", created=int(time.time()), model=params.model,
        choices=[Choice(0, ResponseMessage("assistant", result.content, result.tool_calls), result.finish_reason)],
        usage=usage_body,
    )
    elapsed = time.perf_counter() - started
    overhead_ms = max(elapsed * 1000 - completion.upstream_ms, 0.0)
    metrics.observe_request(endpoint, 200, elapsed, overhead_ms / 1000)
    return Response(_encode(body), media_type="application/json", headers={
        "x-request-id": request_id, "x-daarion-overhead-ms": f"{overhead_ms:.3f}",
        "x-daarion-provider": completion.provider, "x-daarion-model": completion.physical_model,
        "x-daarion-cost-usd": "unknown" if completion.cost_usd is None else f"{completion.cost_usd.normalize():f}",
        **_quota_headers(completion.quota),
    })


async def _stream(
    gateway: LlmGateway, call: CallContext, params: ChatParameters, started: float, metrics: ProxyMetrics,
    endpoint: str,
) -> Stream:
    summary = StreamSummary()
    chunks = gateway.stream(call, _chat_request(params), summary)
    first = await anext(chunks)  # admission, routing and fallback errors still get a real HTTP status
    overhead_ms = max((time.perf_counter() - started) * 1000 - summary.first_chunk_wait_ms, 0.0)
    metrics.observe_request(endpoint, 200, time.perf_counter() - started, overhead_ms / 1000)
    include_usage = params.stream_options is None or params.stream_options.include_usage
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
            yield sse_error(exc.type, exc.message, call.request_id)
        except Exception:
            log.exception("stream %s failed", call.request_id)
            yield sse_error("internal_error", "the stream failed inside the proxy", call.request_id)
        finally:
            await chunks.aclose()

    return Stream(events(), media_type="text/event-stream", headers={
        "x-request-id": call.request_id, "x-daarion-overhead-ms": f"{overhead_ms:.3f}",
        "x-daarion-provider": summary.provider, "x-daarion-model": summary.physical_model,
        "cache-control": "no-cache", **_quota_headers(summary.quota),
    })


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


def _quota_headers(quota: Quota) -> dict[str, str]:
    """OpenAI's x-ratelimit-* headers, and the least that any budget of the caller has left."""
    headers = {}
    if (rate := quota.rate) is not None:
        headers = {
            "x-ratelimit-limit-requests": str(rate.limit_requests),
            "x-ratelimit-remaining-requests": str(rate.remaining_requests),
            "x-ratelimit-reset-requests": _duration(rate.reset_requests_s),
            "x-ratelimit-limit-tokens": str(rate.limit_tokens),
            "x-ratelimit-remaining-tokens": str(rate.remaining_tokens),
            "x-ratelimit-reset-tokens": _duration(rate.reset_tokens_s),
        }
    if quota.budget_left_usd is not None:
        left = max(quota.budget_left_usd, Decimal(0)).quantize(Decimal("0.000001"), ROUND_FLOOR)
        headers["x-daarion-budget-remaining-usd"] = f"{left:f}"
    return headers


def _duration(seconds: float) -> str:
    """OpenAI's format for a reset time, in whole seconds rounded up: "6s", "1m0s"."""
    minutes, rest = divmod(math.ceil(seconds), 60)
    return f"{minutes}m{rest}s" if minutes else f"{rest}s"


def _refusal(exc: DaarionError, status: int, request_id: str, quota: Quota) -> Response[Any]:
    """A 402 or 429 with the error body every failure has, plus what admission learned of the allowance."""
    headers = {"x-request-id": request_id, **_quota_headers(quota)}
    if isinstance(exc, RateLimited):
        headers["retry-after"] = str(exc.retry_after_s)
    return Response(_encode(ErrorBody(ErrorDetail(exc.type, exc.message, request_id))), status_code=status,
                    media_type="application/json", headers=headers)


ROUTES = [proxy_chat, openai_chat, openai_models, usage_report]
