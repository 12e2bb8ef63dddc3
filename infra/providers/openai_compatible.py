"""Any server that speaks OpenAI's /chat/completions (vLLM, llama.cpp server, OpenAI, DeepSeek)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec

from domain.llm import ChatChunk, ChatRequest, ChatResult, ProviderError, Usage

# Statuses that mean the request itself is wrong: another target would refuse it too.
REJECTED_STATUSES = frozenset({400, 413, 422})

_decode = msgspec.json.Decoder()


def shared_http_client() -> httpx.AsyncClient:
    """One pooled client per provider; per-call timeouts come from the target."""
    return httpx.AsyncClient(limits=httpx.Limits(max_connections=512, max_keepalive_connections=128))


class OpenAICompatibleProvider:
    def __init__(
        self, name: str, base_url: str, api_key: str | None = None, client: httpx.AsyncClient | None = None,
        requires_key: bool = False,
    ) -> None:
        self.name = name
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._api_key = api_key
        self._requires_key = requires_key
        self._client = client or shared_http_client()
        self._headers = {"content-type": "application/json"}
        if api_key:
            self._headers["authorization"] = f"Bearer {api_key}"

    def payload(self, model: str, request: ChatRequest, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model, "messages": request.messages}
        for field in ("temperature", "top_p", "max_tokens", "stop", "tools", "tool_choice", "response_format",
                      "seed"):
            value = getattr(request, field)
            if value is not None:
                body[field] = value
        body.update(request.extra)
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return body

    async def complete(self, model: str, request: ChatRequest, timeout_s: float) -> ChatResult:
        self._check_configured()
        try:
            response = await self._client.post(
                self._url, content=msgspec.json.encode(self.payload(model, request, False)),
                headers=self._headers, timeout=_timeout(timeout_s),
            )
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        if response.status_code != 200:
            raise self._status_error(response.status_code, response.content)
        try:
            body = _decode.decode(response.content)
            choice = body["choices"][0]
            message = choice.get("message") or {}
            return ChatResult(
                content=message.get("content"), tool_calls=message.get("tool_calls") or None,
                finish_reason=choice.get("finish_reason") or "stop", usage=_usage(body.get("usage")),
            )
        except (msgspec.DecodeError, KeyError, IndexError, TypeError) as exc:
            raise ProviderError("server_error", f"{self.name} sent an unreadable completion ({exc})") from None

    async def stream(self, model: str, request: ChatRequest, timeout_s: float) -> AsyncIterator[ChatChunk]:
        self._check_configured()
        body = msgspec.json.encode(self.payload(model, request, True))
        try:
            async with self._client.stream(
                "POST", self._url, content=body, headers=self._headers, timeout=_timeout(timeout_s)
            ) as response:
                if response.status_code != 200:
                    raise self._status_error(response.status_code, await response.aread())
                finished = False
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        finished = True
                        break
                    chunk = _decode.decode(data)
                    if "error" in chunk:
                        raise ProviderError("stream_broken", f"{self.name} reported: {_message_of(chunk)}")
                    for parsed in _chunks_of(chunk):
                        yield parsed
                if not finished:
                    raise ProviderError("stream_broken", f"{self.name} closed the stream before [DONE]")
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        except msgspec.DecodeError:
            raise ProviderError("stream_broken", f"{self.name} sent an unreadable stream chunk") from None

    async def aclose(self) -> None:
        await self._client.aclose()

    def _check_configured(self) -> None:
        if self._requires_key and not self._api_key:
            raise ProviderError("not_configured", f"{self.name} has no API key configured")

    def _transport_error(self, exc: httpx.HTTPError) -> ProviderError:
        if isinstance(exc, httpx.TimeoutException):
            return ProviderError("timeout", f"{self.name} did not answer in time")
        if isinstance(exc, httpx.ConnectError):
            return ProviderError("connect", f"cannot connect to {self.name}")
        return ProviderError("stream_broken" if isinstance(exc, httpx.ReadError | httpx.RemoteProtocolError)
                             else "connect", f"{self.name} connection failed: {type(exc).__name__}")

    def _status_error(self, status: int, content: bytes) -> ProviderError:
        message = self._redact(_message_of_bytes(content))
        if status in REJECTED_STATUSES:
            return ProviderError("rejected", message, status)
        if status == 429:
            return ProviderError("rate_limited", f"{self.name} is rate limiting us: {message}", status)
        return ProviderError("server_error", f"{self.name} answered {status}: {message}", status)

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text


def _timeout(timeout_s: float) -> httpx.Timeout:
    return httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0))


def _usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return Usage()
    return Usage(int(raw.get("prompt_tokens") or 0), int(raw.get("completion_tokens") or 0))


def _chunks_of(chunk: dict[str, Any]) -> list[ChatChunk]:
    out = []
    for choice in chunk.get("choices") or []:
        delta = {k: v for k, v in (choice.get("delta") or {}).items() if v is not None}
        out.append(ChatChunk(delta, choice.get("finish_reason")))
    if chunk.get("usage"):
        out.append(ChatChunk({}, None, _usage(chunk["usage"])))
    return out


def _message_of(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message", "unknown error"))[:500]
    return str(error or body)[:500]


def _message_of_bytes(content: bytes) -> str:
    try:
        return _message_of(_decode.decode(content))
    except msgspec.DecodeError:
        return content[:300].decode("utf-8", "replace")
