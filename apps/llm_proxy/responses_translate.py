"""Responses API <-> the chat gateway's request and result: input items become chat messages, function tools
chat tools, and a chat result the output items of a Response. The gateway (routing, limits, budgets, ledger)
is the same as for chat; only the shapes differ."""

from __future__ import annotations

import time
from typing import Any

from apps.llm_proxy.responses_schemas import (
    FunctionCallItem,
    MessageItem,
    OutputItem,
    OutputText,
    ResponseObject,
    ResponsesRequest,
    ResponseUsage,
)
from domain.kernel.errors import InvalidRequest
from domain.kernel.usage import Usage
from domain.llm.policies import ChatRequest, ChatResult

_EXTRA = ("parallel_tool_calls", "user", "service_tier", "prompt_cache_key", "safety_identifier", "store")
_STATELESS = ("previous_response_id", "conversation", "background")


def chat_request_of(data: ResponsesRequest) -> ChatRequest:
    for name in _STATELESS:
        if getattr(data, name):
            raise InvalidRequest(f"'{name}' is not supported: this proxy stores no responses; send the whole "
                                 "conversation as `input`", param=name)
    messages: list[dict[str, Any]] = [{"role": "system", "content": data.instructions}] if data.instructions else []
    items = [{"role": "user", "content": data.input}] if isinstance(data.input, str) else data.input
    for index, item in enumerate(items):
        _append(messages, item, f"input[{index}]")
    if not messages:
        raise InvalidRequest("`input` holds no message", param="input")
    extra = {name: getattr(data, name) for name in _EXTRA if getattr(data, name) is not None}
    if data.reasoning and data.reasoning.get("effort"):
        extra["reasoning_effort"] = data.reasoning["effort"]
    return ChatRequest(
        messages=messages, temperature=data.temperature, top_p=data.top_p, max_tokens=data.max_output_tokens,
        tools=[_chat_tool(tool, index) for index, tool in enumerate(data.tools)] if data.tools else None,
        tool_choice=_tool_choice(data.tool_choice), response_format=_response_format(data.text), extra=extra,
    )


def response_of(data: ResponsesRequest, response_id: str, result: ChatResult, status: str = "completed",
                ) -> ResponseObject:
    output: list[OutputItem] = []
    if result.content:
        output.append(MessageItem(f"msg_{response_id}", "completed", [OutputText(result.content)]))
    for call in result.tool_calls or []:
        function = call.get("function") or {}
        output.append(FunctionCallItem(f"fc_{call.get('id', '')}", str(call.get("id", "")), str(function.get("name", "")),
                                       str(function.get("arguments", "")), "completed"))
    incomplete = result.finish_reason == "length"
    return envelope(data, response_id, "incomplete" if incomplete and status == "completed" else status, output,
                    usage_of(result.usage), {"reason": "max_output_tokens"} if incomplete else None)


def envelope(data: ResponsesRequest, response_id: str, status: str, output: list[OutputItem],
             usage: ResponseUsage | None = None, incomplete: dict[str, Any] | None = None) -> ResponseObject:
    return ResponseObject(
        id=response_id, created_at=int(time.time()), model=data.model, status=status, output=output,
        parallel_tool_calls=data.parallel_tool_calls is not False, tool_choice=data.tool_choice or "auto",
        tools=data.tools or [], temperature=data.temperature, top_p=data.top_p, instructions=data.instructions,
        max_output_tokens=data.max_output_tokens, metadata=data.metadata or {}, usage=usage,
        incomplete_details=incomplete,
    )


def usage_of(usage: Usage) -> ResponseUsage:
    return ResponseUsage(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)


def _append(messages: list[dict[str, Any]], item: dict[str, Any], where: str) -> None:
    kind = item.get("type", "message")
    if kind == "message":
        role = item.get("role")
        if role not in ("user", "assistant", "system", "developer"):
            raise InvalidRequest(f"{where}.role must be user, assistant, system or developer", param=f"{where}.role")
        messages.append({"role": role, "content": _content(item.get("content"), role, where)})
    elif kind == "function_call":
        call = {"id": _text(item, "call_id", where), "type": "function",
                "function": {"name": _text(item, "name", where), "arguments": _text(item, "arguments", where)}}
        last = messages[-1] if messages else None
        if last is not None and last["role"] == "assistant" and not last.get("content"):
            last.setdefault("tool_calls", []).append(call)  # parallel calls are one assistant message in chat
        else:
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
    elif kind == "function_call_output":
        output = item.get("output")
        content = output if isinstance(output, str) else _content(output, "tool", where)
        messages.append({"role": "tool", "tool_call_id": _text(item, "call_id", where), "content": content})
    elif kind != "reasoning":  # a model's reasoning from an earlier turn: no chat target takes it back
        raise InvalidRequest(f"{where}.type '{kind}' is not supported (message, function_call, "
                             "function_call_output)", param=f"{where}.type")


def _content(content: Any, role: str, where: str) -> Any:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise InvalidRequest(f"{where}.content must be a string or a list of parts", param=f"{where}.content")
    parts: list[dict[str, Any]] = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text", "text") and isinstance(part.get("text"), str):
            parts.append({"type": "text", "text": part["text"]})
        elif kind == "input_image" and isinstance(part.get("image_url"), str):
            parts.append({"type": "image_url", "image_url": {"url": part["image_url"]}})
        else:
            raise InvalidRequest(f"{where}.content has a part of type '{kind}', which is not supported "
                                 "(input_text, output_text, input_image by URL)", param=f"{where}.content")
    if role in ("assistant", "tool") or all(part["type"] == "text" for part in parts):
        return "".join(part.get("text", "") for part in parts)
    return parts


def _text(item: dict[str, Any], field: str, where: str) -> str:
    value = item.get(field)
    if not isinstance(value, str):
        raise InvalidRequest(f"{where}.{field} must be a string", param=f"{where}.{field}")
    return value


def _chat_tool(tool: dict[str, Any], index: int) -> dict[str, Any]:
    if tool.get("type") != "function" or not isinstance(tool.get("name"), str):
        raise InvalidRequest(f"tools[{index}]: only function tools (type, name, parameters) are supported",
                             param=f"tools[{index}]")
    function = {key: tool[key] for key in ("name", "description", "parameters", "strict") if tool.get(key) is not None}
    return {"type": "function", "function": function}


def _tool_choice(choice: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
    if isinstance(choice, dict):
        if choice.get("type") != "function" or not isinstance(choice.get("name"), str):
            raise InvalidRequest("tool_choice: only 'auto', 'none', 'required' or a function by name",
                                 param="tool_choice")
        return {"type": "function", "function": {"name": choice["name"]}}
    return choice


def _response_format(text: dict[str, Any] | None) -> dict[str, Any] | None:
    spec = (text or {}).get("format")
    if not isinstance(spec, dict) or spec.get("type") in (None, "text"):
        return None
    if spec.get("type") == "json_object":
        return {"type": "json_object"}
    if spec.get("type") == "json_schema":
        schema = {key: spec[key] for key in ("name", "schema", "strict", "description") if key in spec}
        return {"type": "json_schema", "json_schema": schema}
    raise InvalidRequest(f"text.format type '{spec.get('type')}' is not supported", param="text.format")
