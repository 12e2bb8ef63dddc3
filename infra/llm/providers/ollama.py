"""Ollama through the official `ollama` AsyncClient; OpenAI-shaped messages and tool calls both ways."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any

import httpx
import ollama

from domain.kernel.usage import Usage
from domain.llm.policies import ChatChunk, ChatRequest, ChatResult, ProviderError
from domain.llm.ports import Embedded

_FAILURES = (ollama.ResponseError, httpx.HTTPError, ConnectionError, TimeoutError)
# How the client library fails on a 200 that is not an answer: not JSON (ValueError), a field of the wrong
# type (pydantic's ValidationError, a ValueError), a part that is not an object (TypeError, AttributeError).
_MALFORMED = (ValueError, TypeError, AttributeError)


class OllamaProvider:
    def __init__(self, name: str = "ollama", host: str = "http://127.0.0.1:11434") -> None:
        self.name = name
        self._client = ollama.AsyncClient(host=host)

    async def complete(self, model: str, request: ChatRequest, timeout_s: float) -> ChatResult:
        try:
            async with asyncio.timeout(timeout_s):
                response = await self._client.chat(model=model, stream=False, **_arguments(request))
        except _FAILURES as exc:
            raise self._classify(exc) from None
        except _MALFORMED as exc:
            raise self._bad_response("answer", exc) from None
        message = response.message
        return ChatResult(
            content=message.content or None,
            tool_calls=_openai_tool_calls(message.tool_calls),
            finish_reason="tool_calls" if message.tool_calls else _finish_reason(response.done_reason),
            usage=self._usage(response),
        )

    async def stream(self, model: str, request: ChatRequest, timeout_s: float) -> AsyncGenerator[ChatChunk, None]:
        answered = False  # once a chunk is out, the router can no longer fall back
        try:
            async with asyncio.timeout(timeout_s):
                parts = await self._client.chat(model=model, stream=True, **_arguments(request))
            while True:
                try:
                    async with asyncio.timeout(timeout_s):
                        part = await anext(parts)
                except StopAsyncIteration:
                    kind = "stream_broken" if answered else "bad_response"
                    raise ProviderError(kind, f"{self.name} ended the stream before its final part") from None
                delta: dict[str, Any] = {}
                if part.message.content:
                    delta["content"] = part.message.content
                tool_calls = _openai_tool_calls(part.message.tool_calls)
                if tool_calls:
                    delta["tool_calls"] = [{"index": i, **call} for i, call in enumerate(tool_calls)]
                if delta:
                    answered = True
                    yield ChatChunk(delta)
                if part.done:
                    reason = "tool_calls" if tool_calls else _finish_reason(part.done_reason)
                    yield ChatChunk({}, reason)
                    yield ChatChunk({}, None, self._usage(part))
                    return
        except _FAILURES as exc:
            failure = self._classify(exc)
            raise (ProviderError("stream_broken", failure.message) if answered else failure) from None
        except _MALFORMED as exc:
            raise self._bad_response("stream part", exc) from None

    async def embed(self, model: str, texts: list[str], dimensions: int | None, timeout_s: float) -> Embedded:
        try:
            async with asyncio.timeout(timeout_s):
                response = await self._client.embed(model=model, input=texts, dimensions=dimensions)
        except _FAILURES as exc:
            raise self._classify(exc) from None
        except _MALFORMED as exc:
            raise self._bad_response("embeddings answer", exc) from None
        vectors = [list(vector) for vector in response.embeddings]
        if len(vectors) != len(texts):
            raise ProviderError("bad_response", f"{self.name} sent {len(vectors)} embeddings for {len(texts)} texts")
        return Embedded(vectors, response.prompt_eval_count)

    async def aclose(self) -> None:
        await self._client.close()

    def _usage(self, response: ollama.ChatResponse) -> Usage:
        prompt, completion = response.prompt_eval_count or 0, response.eval_count or 0
        if not (0 <= prompt < 2**31 and 0 <= completion < 2**31):
            raise ProviderError("bad_response", f"{self.name} counted impossible tokens: {prompt}, {completion}")
        return Usage(prompt, completion)

    def _bad_response(self, what: str, exc: Exception) -> ProviderError:
        detail = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())  # pydantic's are long
        return ProviderError("bad_response", f"{self.name} sent a malformed {what}: {detail}"[:500])

    def _classify(self, exc: Exception) -> ProviderError:
        if isinstance(exc, TimeoutError | httpx.TimeoutException):
            return ProviderError("timeout", f"{self.name} did not answer in time")
        if isinstance(exc, ConnectionError | httpx.ConnectError):
            return ProviderError("connect", f"cannot connect to {self.name}")
        if isinstance(exc, ollama.ResponseError):
            status = exc.status_code
            if status in (400, 413, 422):
                return ProviderError("rejected", exc.error[:500], status)
            kind = "rate_limited" if status == 429 else "server_error"
            return ProviderError(kind, f"{self.name} answered {status}: {exc.error[:300]}", status)
        return ProviderError("connect", f"{self.name} connection failed: {type(exc).__name__}")


def _arguments(request: ChatRequest) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for ours, theirs in (("temperature", "temperature"), ("top_p", "top_p"), ("max_tokens", "num_predict"),
                         ("seed", "seed")):
        value = getattr(request, ours)
        if value is not None:
            options[theirs] = value
    if request.stop is not None:
        options["stop"] = [request.stop] if isinstance(request.stop, str) else request.stop
    arguments: dict[str, Any] = {"messages": [_ollama_message(m) for m in request.messages], "options": options}
    if request.tools:
        arguments["tools"] = request.tools
    return arguments


def _ollama_message(message: dict[str, Any]) -> dict[str, Any]:
    converted = {"role": message["role"], "content": _text_of(message.get("content"))}
    if message.get("tool_calls"):
        converted["tool_calls"] = [
            {"function": {"name": call["function"]["name"], "arguments": _json_object(call["function"].get("arguments"))}}
            for call in message["tool_calls"]
        ]
    if message["role"] == "tool" and message.get("name"):
        converted["tool_name"] = message["name"]
    return converted


def _text_of(content: Any) -> str:
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


def _json_object(arguments: Any) -> dict[str, Any]:
    if isinstance(arguments, str):
        try:
            parsed = json.loads(arguments or "{}")
        except json.JSONDecodeError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return dict(arguments or {})


def _openai_tool_calls(calls: Any) -> list[dict[str, Any]] | None:
    if not calls:
        return None
    return [
        {"id": f"call_{index}_{call.function.name}", "type": "function",
         "function": {"name": call.function.name, "arguments": json.dumps(dict(call.function.arguments or {}))}}
        for index, call in enumerate(calls)
    ]


def _finish_reason(done_reason: str | None) -> str:
    return "length" if done_reason == "length" else "stop"
