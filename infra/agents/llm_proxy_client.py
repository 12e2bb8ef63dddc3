"""The LLM proxy as the agent runtime calls it: POST /internal/llm/proxy, plain or streamed (SSE)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal, InvalidOperation
from typing import Any

import aiohttp
import msgspec

from domain.agents.model import LlmCall, LlmReply, TurnContext
from domain.kernel.errors import UpstreamFailed
from domain.kernel.usage import Usage
from infra.agents.service_http import ServiceEndpoint, ServiceHttp, status_error, transport_error

SERVICE = "LLM proxy"
PATH = "/internal/llm/proxy"
_decode = msgspec.json.Decoder()


class LlmProxyClient:
    def __init__(self, http: ServiceHttp, endpoint: ServiceEndpoint) -> None:
        self._http = http
        self._endpoint = endpoint

    async def complete(self, context: TurnContext, call: LlmCall) -> LlmReply:
        reply = await self._http.call(SERVICE, self._endpoint, "POST", PATH, context,
                                      _body(context, call, False))
        if reply.status != 200:
            raise status_error(SERVICE, reply.status, reply.headers, reply.content)
        try:
            body = reply.json()
            message = body["choices"][0]["message"]
            usage = body.get("usage") or {}
        except (msgspec.DecodeError, KeyError, IndexError, TypeError):
            raise UpstreamFailed("the LLM proxy sent an unreadable completion") from None
        return LlmReply(message.get("content"), message.get("tool_calls") or None, _usage(usage),
                        _cost(reply.headers.get("x-daarion-cost-usd")), reply.headers.get("x-daarion-provider", ""))

    async def stream(self, context: TurnContext, call: LlmCall) -> AsyncIterator[str | LlmReply]:
        assembled = _Assembly()
        async with self._http.stream(SERVICE, self._endpoint, PATH, context,
                                     _body(context, call, True)) as response:
            if response.status != 200:
                headers = {name.lower(): value for name, value in response.headers.items()}
                raise status_error(SERVICE, response.status, headers, await response.read())
            assembled.provider = response.headers.get("x-daarion-provider", "")
            try:
                async for raw in response.content:
                    line = raw.decode("utf-8").strip()
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        yield assembled.reply()
                        return
                    text = assembled.add(_decode.decode(data))
                    if text:
                        yield text
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise transport_error(SERVICE, self._endpoint, exc) from None
            except (msgspec.DecodeError, UnicodeDecodeError):
                raise UpstreamFailed("the LLM proxy sent an unreadable stream chunk") from None
        raise UpstreamFailed("the LLM proxy closed the stream before it was complete")


class _Assembly:
    """Puts a streamed reply back together: text, tool calls (sent in pieces, by index) and usage."""

    def __init__(self) -> None:
        self.provider = ""
        self.text: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}
        self.usage = Usage()
        self.cost: Decimal | None = None

    def add(self, chunk: dict[str, Any]) -> str:
        if "error" in chunk:
            error = chunk["error"] if isinstance(chunk["error"], dict) else {}
            raise UpstreamFailed(f"the LLM stream failed: {error.get('message', 'unknown error')}")
        if chunk.get("usage"):
            self.usage = _usage(chunk["usage"])
            self.cost = _cost(chunk["usage"].get("cost_usd"))
        text = ""
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                text += delta["content"]
            for piece in delta.get("tool_calls") or []:
                call = self.calls.setdefault(int(piece.get("index", len(self.calls))),
                                             {"id": "", "type": "function", "function": {"name": "", "arguments": ""}})
                call["id"] = piece.get("id") or call["id"]
                function = piece.get("function") or {}
                call["function"]["name"] += function.get("name") or ""
                call["function"]["arguments"] += function.get("arguments") or ""
        self.text.append(text)
        return text

    def reply(self) -> LlmReply:
        calls = [self.calls[index] for index in sorted(self.calls)] or None
        return LlmReply("".join(self.text) or None, calls, self.usage, self.cost, self.provider)


def _body(context: TurnContext, call: LlmCall, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": call.model, "messages": call.messages, "stream": stream,
        "metadata": {"agent_id": context.agent_id, "microdao_id": context.microdao_id},
    }
    for field in ("tools", "tool_choice", "max_tokens", "temperature"):
        value = getattr(call, field)
        if value is not None:
            body[field] = value
    return body


def _usage(raw: dict[str, Any]) -> Usage:
    return Usage(int(raw.get("prompt_tokens") or 0), int(raw.get("completion_tokens") or 0))


def _cost(raw: object) -> Decimal | None:
    """The proxy's price of the call; None ("unknown", or absent as on streams today) stays unknown."""
    if raw is None or raw == "unknown":
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        return None
