"""A deterministic local model for development and tests: no network, real token accounting.

It answers "(stub) You said: <last user message>". It calls tools when told to:
- a directive in the last user message, `[[tool:FUNCTION {"json": "arguments"}]]`, or
- a scripted rule from config: when the last user message matches `when`, call `call` (if offered and
  not yet called this turn) with `arguments`, where a string "{{result:FUNCTION:path}}" is taken from
  that function's earlier result (path like `items[name=Project X].id`). A rule with
  `offered_only: false` calls its function even when it was not offered (to test that Toolcore refuses).
No tool is called when `tool_choice` is "none".
After tool results arrive it reports them: every "title"/"name" found in the results, in order, and the
message of every tool error.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncGenerator
from typing import Any

import msgspec

from domain.kernel.usage import Usage
from domain.llm.policies import (
    ChatChunk,
    ChatRequest,
    ChatResult,
    estimate_prompt_tokens,
    estimate_text_tokens,
)

_DIRECTIVE = re.compile(r"\[\[tool:([A-Za-z0-9_-]{1,64})\s*(\{.*?\})?\]\]", re.DOTALL)
_TEMPLATE = re.compile(r"^\{\{result:([A-Za-z0-9_-]{1,64}):(.*)\}\}$")
_SEGMENT = re.compile(r"^([^\[\]]*)(?:\[(\d+|[^=\]]+=[^\]]*)\])?$")


class StubRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    when: str
    call: str
    arguments: dict[str, Any] = {}
    offered_only: bool = True


class StubProvider:
    def __init__(self, name: str = "stub", rules: list[StubRule] | None = None, latency_ms: float = 0.0) -> None:
        self.name = name
        self._rules = [(re.compile(rule.when, re.IGNORECASE), rule) for rule in rules or []]
        self._latency_s = latency_ms / 1000

    async def complete(self, model: str, request: ChatRequest, timeout_s: float) -> ChatResult:
        if self._latency_s:
            await asyncio.sleep(self._latency_s)
        tool_calls = self._tool_calls(request)
        if tool_calls:
            text = json.dumps(tool_calls)
            return ChatResult(None, tool_calls, "tool_calls", self._usage(request, text))
        reply = self._reply(request)
        return ChatResult(reply, None, "stop", self._usage(request, reply))

    async def stream(
        self, model: str, request: ChatRequest, timeout_s: float,
    ) -> AsyncGenerator[ChatChunk, None]:
        result = await self.complete(model, request, timeout_s)
        yield ChatChunk({"role": "assistant"})
        if result.tool_calls:
            yield ChatChunk({"tool_calls": [{"index": i, **call} for i, call in enumerate(result.tool_calls)]})
        else:
            for word in re.findall(r"\S+\s*", result.content or ""):
                yield ChatChunk({"content": word})
        yield ChatChunk({}, result.finish_reason)
        yield ChatChunk({}, None, result.usage)

    async def aclose(self) -> None:
        return None

    def _usage(self, request: ChatRequest, output: str) -> Usage:
        return Usage(estimate_prompt_tokens(request), estimate_text_tokens(output))

    def _tool_calls(self, request: ChatRequest) -> list[dict[str, Any]]:
        offered = {_function_name(t) for t in request.tools or []} - {None}
        turn = _current_turn(request.messages)
        if not offered or not turn or request.tool_choice == "none":
            return []
        last_user = _text(turn[0])
        called = {_function_name(c) for m in turn for c in m.get("tool_calls") or []} - {None}
        if not _has_tool_results(turn):
            wanted = [(name, json.loads(args) if args else {}) for name, args in _DIRECTIVE.findall(last_user)]
            calls = [(name, args) for name, args in wanted if name in offered]
            if calls:
                return [_call(i, name, args) for i, (name, args) in enumerate(calls)]
        for pattern, rule in self._rules:
            may_call = rule.call in offered or not rule.offered_only
            if may_call and rule.call not in called and pattern.search(last_user):
                return [_call(len(called), rule.call, _fill(rule.arguments, turn))]
        return []

    def _reply(self, request: ChatRequest) -> str:
        turn = _current_turn(request.messages)
        results = [m for m in turn if m.get("role") == "tool"]
        if not results:
            return f"(stub) You said: {_text(turn[0]) if turn else ''}".strip()
        found: list[str] = []
        for message in results:
            content = _text(message)
            try:
                result = json.loads(content)
            except json.JSONDecodeError:
                found.append(content[:200])
                continue
            error = result.get("error") if isinstance(result, dict) else None
            if isinstance(error, dict) and isinstance(error.get("message"), str):
                found.append(f"error: {error['message']}")
            else:
                _collect_names(result, found)
        return "(stub) Here is what I found: " + "; ".join(found) + "."


def _current_turn(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last user message and everything after it."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].get("role") == "user":
            return messages[index:]
    return []


def _has_tool_results(turn: list[dict[str, Any]]) -> bool:
    return any(m.get("role") == "tool" for m in turn)


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content or ""


def _call(index: int, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"call_stub_{index}_{name}", "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)}}


def _function_name(entry: Any) -> str | None:
    """The function a tool (or tool call) names; None for an entry of another shape (clients send anything)."""
    function = entry.get("function") if isinstance(entry, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    return name if isinstance(name, str) else None


def _fill(arguments: dict[str, Any], turn: list[dict[str, Any]]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    call_names = {c.get("id"): name for m in turn for c in m.get("tool_calls") or []
                  if (name := _function_name(c)) is not None}
    for message in turn:
        if message.get("role") == "tool" and message.get("tool_call_id") in call_names:
            try:
                results[call_names[message["tool_call_id"]]] = json.loads(_text(message))
            except json.JSONDecodeError:
                continue
    filled = {}
    for key, value in arguments.items():
        match = _TEMPLATE.match(value) if isinstance(value, str) else None
        filled[key] = _follow(results.get(match.group(1)), match.group(2)) if match else value
    return filled


def _follow(value: Any, path: str) -> Any:
    for segment in filter(None, path.split(".")):
        match = _SEGMENT.match(segment)
        if match is None or value is None:
            return None
        key, selector = match.groups()
        if key:
            value = value.get(key) if isinstance(value, dict) else None
        if selector and isinstance(value, list):
            if selector.isdigit():
                value = value[int(selector)] if int(selector) < len(value) else None
            else:
                field, _, wanted = selector.partition("=")
                value = next((item for item in value if isinstance(item, dict) and str(item.get(field)) == wanted),
                             None)
    return value


def _collect_names(value: Any, found: list[str]) -> None:
    if isinstance(value, dict):
        for key in ("name", "title"):
            if isinstance(value.get(key), str):
                found.append(value[key])
        for child in value.values():
            if isinstance(child, dict | list):
                _collect_names(child, found)
    elif isinstance(value, list):
        for item in value:
            _collect_names(item, found)
