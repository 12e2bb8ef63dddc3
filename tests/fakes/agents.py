"""Fakes for the agent runtime: a provider that records what the LLM proxy asked of it, one fake per port of
the turn (memory, tools, LLM) for unit tests of domain/agents/turn.py, and memory + Toolcore as one
recording HTTP stand-in (to see which credential each of a turn's calls carried)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

from domain.agents.model import LlmCall, LlmReply, Recall, ToolResult, TurnContext
from domain.kernel.errors import UpstreamFailed
from domain.kernel.tool_calls import ToolCallStatus
from domain.kernel.usage import Usage
from domain.llm.policies import ChatChunk, ChatRequest, ChatResult, ProviderError
from domain.llm.ports import ChatProvider
from tests.fakes.llm_servers import _json, _lifespan, read_body


class RecordingProvider:
    """Wraps a real provider (the stub) and keeps every request it was given. Given a `failure`, it is a
    backend that is down: every call raises it, a stream when first iterated, as the HTTP providers do."""

    def __init__(self, inner: ChatProvider, failure: ProviderError | None = None) -> None:
        self.name = inner.name
        self._inner = inner
        self.failure = failure
        self.requests: list[ChatRequest] = []

    async def complete(self, model: str, request: ChatRequest, timeout_s: float) -> ChatResult:
        self.requests.append(request)
        if self.failure is not None:
            raise self.failure
        return await self._inner.complete(model, request, timeout_s)

    async def stream(
        self, model: str, request: ChatRequest, timeout_s: float,
    ) -> AsyncGenerator[ChatChunk, None]:
        self.requests.append(request)
        if self.failure is not None:
            raise self.failure
        async for chunk in self._inner.stream(model, request, timeout_s):
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class FakeMemory:
    def __init__(self, recall: Recall | None = None, down: bool = False) -> None:
        self.recall_result = recall or Recall()
        self.down = down
        self.stored: list[tuple[TurnContext, str, str]] = []

    async def recall(self, context: TurnContext, query: str, tiers: Sequence[str], limit: int) -> Recall:
        if self.down:
            raise UpstreamFailed("cannot reach the memory service")
        return self.recall_result

    async def remember(self, context: TurnContext, user_message: str, agent_reply: str) -> list[str]:
        if self.down:
            raise UpstreamFailed("cannot reach the memory service")
        self.stored.append((context, user_message, agent_reply))
        return ["m-new"]


class FakeTools:
    def __init__(self, tools: list[dict[str, Any]], results: dict[str, ToolResult] | None = None) -> None:
        self.tools = tools
        self.results = results or {}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def available(self, context: TurnContext) -> list[dict[str, Any]]:
        return self.tools

    async def call(self, context: TurnContext, tool_id: str, args: dict[str, Any]) -> ToolResult:
        self.calls.append((tool_id, args))
        return self.results.get(tool_id, ToolResult(ToolCallStatus.SUCCEEDED, 1.0, {"ok": tool_id}))


class ScriptedLlm:
    """Answers each call with the next reply of its script; keeps the calls."""

    def __init__(self, replies: list[LlmReply], fail: bool = False) -> None:
        self.replies = list(replies)
        self.fail = fail
        self.calls: list[LlmCall] = []

    async def complete(self, context: TurnContext, call: LlmCall) -> LlmReply:
        self.calls.append(call)
        if self.fail:
            raise UpstreamFailed("cannot reach the LLM proxy")
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    async def stream(self, context: TurnContext, call: LlmCall) -> AsyncIterator[str | LlmReply]:
        reply = await self.complete(context, call)
        for word in (reply.content or "").split(" "):
            yield word + " "
        yield reply


def tool_call_reply(name: str, arguments: str = "{}", cost: Decimal | None = Decimal("0.001")) -> LlmReply:
    call = {"id": f"call_{name}", "type": "function", "function": {"name": name, "arguments": arguments}}
    return LlmReply(None, [call], Usage(10, 2), cost, "fake")


def text_reply(text: str, cost: Decimal | None = Decimal("0.002")) -> LlmReply:
    return LlmReply(text, None, Usage(20, 5), cost, "fake")


def openai_tool(name: str) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "description": name, "parameters": {"type": "object"}}}


class RecordingServices:
    """Memory and Toolcore as the runtime calls them, over real HTTP: nothing remembered, `tools` offered
    and every call succeeding. Keeps each call as (method, path, Authorization header); a key in `refuse`
    gets 403 identity_mismatch, as the real services answer a key of another agent."""

    def __init__(self, tools: Sequence[str] = ()) -> None:
        self.tools = list(tools)
        self.calls: list[tuple[str, str, str | None]] = []
        self.refuse: set[str] = set()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        await read_body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        authorization = headers.get("authorization")
        self.calls.append((scope["method"], scope["path"], authorization))
        if authorization in {f"Bearer {key}" for key in self.refuse}:
            await _json(send, 403, {"error": {"type": "identity_mismatch", "message": "not this agent's key"}})
            return
        answers: dict[str, tuple[int, Any]] = {
            "/internal/agent-memory/query": (200, {"short_term": [], "memories": []}),
            "/internal/agent-memory/store": (201, {"id": "m-1", "ids": ["m-1"]}),
            "/internal/tools": (200, {"tools": [openai_tool(name) for name in self.tools]}),
            "/internal/tools/call": (200, {"ok": True, "result": {"now": "2026-12-01T10:00:00Z"}}),
        }
        status, payload = answers.get(scope["path"], (404, {"error": {"type": "not_found", "message": "no"}}))
        await _json(send, status, payload)

    def authorizations(self) -> set[str | None]:
        return {authorization for _, _, authorization in self.calls}

