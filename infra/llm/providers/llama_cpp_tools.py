"""Function calling for small local models that were never trained for it (SmolLM2-135M and the like).

The model is not trusted to produce a tool call on its own. Instead, when tools are offered, a first
pass asks it for a *decision* under a JSON grammar built from the offered tools:
    {"tool": "<function name>", "arguments": {...fitting that function's parameters...}}  or  {"tool": "none"}
so whatever it says is a well-formed call of an offered function, or "no tool". The clear fallbacks:
a decision that is cut off, unreadable or "none", or that repeats a call already made this turn
(tiny models love to), means "answer in text" - the second pass, streamed.

Chat templates of such models know only system/user/assistant with string content, so tool traffic is
rendered as text here: a result becomes a readable user message naming the tool; the call itself is left
out (rendered as a line of text, SmolLM2 copies it into its answer instead of answering).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

_KEEP = ("type", "properties", "required", "enum", "const", "items", "anyOf")
NONE = "none"
MAX_STRING_CHARS = 48


def template_messages(messages: list[dict[str, Any]], max_result_chars: int = 1500) -> list[dict[str, str]]:
    names = {call.get("id"): _name(call) for m in messages for call in m.get("tool_calls") or []}
    rendered: list[dict[str, str]] = []
    for message in messages:
        role, content = message.get("role", "user"), text_of(message)
        if role == "tool":
            name = names.get(message.get("tool_call_id")) or "the tool"
            rendered.append({"role": "user", "content": f"Result of {name}:\n{readable(content, max_result_chars)}"})
            continue
        if role == "assistant" and message.get("tool_calls") and not content.strip():
            continue  # the result message names the tool; a rendered call line only gets imitated in answers
        rendered.append({"role": "system" if role == "developer" else role, "content": content})
    return rendered


def decision_schema(tools: list[dict[str, Any]] | None, tool_choice: Any) -> dict[str, Any] | None:
    """The JSON schema the decision must fit, or None when there is nothing to decide."""
    if not tools or tool_choice == NONE:
        return None
    forced = (tool_choice.get("function") or {}).get("name") if isinstance(tool_choice, dict) else None
    options = [{
        "type": "object",
        "properties": {"tool": {"const": _name(tool)}, "arguments": _simplified(_parameters(tool))},
        "required": ["tool", "arguments"], "additionalProperties": False,
    } for tool in tools if forced in (None, _name(tool))]
    if forced is None and tool_choice != "required":
        options.append({"type": "object", "properties": {"tool": {"const": NONE}}, "required": ["tool"],
                        "additionalProperties": False})
    return {"anyOf": options} if options else None


def decision_instruction(tools: list[dict[str, Any]]) -> str:
    lines = ["You can call these tools:"]
    for tool in tools:
        function = tool.get("function") or {}
        parameters = _parameters(tool).get("properties") or {}
        arguments = ", ".join(parameters) or "no arguments"
        lines.append(f"- {_name(tool)}: {function.get('description', '')} (arguments: {arguments})")
    lines.append('If one of them is needed to answer the user\'s last message, reply with JSON '
                 '{"tool": NAME, "arguments": {...}}; otherwise reply {"tool": "none"}.')
    return "\n".join(lines)


def with_instruction(messages: list[dict[str, str]], instruction: str) -> list[dict[str, str]]:
    """The decision instruction joins the first system message: measured with SmolLM2-135M, it picks a
    tool there and never when the instruction comes as a separate message after the conversation."""
    if messages and messages[0]["role"] == "system":
        return [{"role": "system", "content": f"{messages[0]['content']}\n\n{instruction}"}, *messages[1:]]
    return [{"role": "system", "content": instruction}, *messages]


def parse_decision(text: str) -> tuple[str, dict[str, Any]] | None:
    """(function name, arguments), or None for "no tool" and for anything cut off or unreadable."""
    try:
        decision = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(decision, dict) or decision.get("tool") in (None, NONE):
        return None
    arguments = decision.get("arguments")
    return str(decision["tool"]), arguments if isinstance(arguments, dict) else {}


def repeats_a_call(name: str, arguments: dict[str, Any], messages: list[dict[str, Any]]) -> bool:
    """Whether this exact call was already made since the last user message."""
    wanted = json.dumps(arguments, sort_keys=True)
    for message in reversed(messages):
        if message.get("role") == "user":
            return False
        for call in message.get("tool_calls") or []:
            raw = (call.get("function") or {}).get("arguments") or "{}"
            try:
                made = json.dumps(json.loads(raw) if isinstance(raw, str) else raw, sort_keys=True)
            except json.JSONDecodeError:
                continue
            if _name(call) == name and made == wanted:
                return True
    return False


def fit(
    messages: list[dict[str, str]], count: Callable[[list[dict[str, str]]], int], budget: int, keep_last: int = 1,
) -> list[dict[str, str]]:
    """Drops the oldest history, then halves the longest messages, until the prompt fits `budget` tokens.

    System messages and the last `keep_last` messages (the current turn: the question and the tool results
    since) are kept whole as long as anything else can go. Raises ValueError when even that does not fit."""
    messages = list(messages)
    protected_from = len(messages) - keep_last
    while count(messages) > budget:
        droppable = [i for i, m in enumerate(messages) if m["role"] != "system" and i < protected_from]
        if droppable:
            del messages[droppable[0]]
            protected_from -= 1
            continue
        longest = max(range(len(messages)), key=lambda i: len(messages[i]["content"]))
        content = messages[longest]["content"]
        if len(content) < 200:
            raise ValueError(f"the prompt needs more than the {budget} tokens the local model has for it")
        messages[longest] = {**messages[longest], "content": content[: len(content) // 2] + " …"}
    return messages


def current_turn_start(messages: list[dict[str, Any]]) -> int:
    """Index of the last user message: the current turn is it and everything after it."""
    return max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=0)


def readable(text: str, max_chars: int) -> str:
    """A tool result as short lines a small model can read (JSON braces and quotes confuse it)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text[:max_chars]
    lines: list[str] = []
    _lines(value, "", lines)
    out = "\n".join(lines)
    return out if len(out) <= max_chars else out[:max_chars] + " …"


def text_of(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content or ""


def _lines(value: Any, key: str, lines: list[str]) -> None:
    prefix = f"{key}: " if key else ""
    if isinstance(value, dict) and all(not isinstance(v, dict | list) for v in value.values()):
        lines.append(prefix + "; ".join(f"{k}: {_scalar(v)}" for k, v in value.items() if v not in (None, "")))
    elif isinstance(value, dict):
        for child_key, child in value.items():
            _lines(child, child_key, lines)
    elif isinstance(value, list):
        if key:
            lines.append(f"{key}:")
        for item in value:
            before = len(lines)
            _lines(item, "", lines)
            lines[before] = "- " + lines[before] if before < len(lines) else "- (empty)"
    else:
        lines.append(prefix + _scalar(value))


def _scalar(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 200 else text[:200] + "…"


def _name(tool_or_call: dict[str, Any]) -> str:
    return str((tool_or_call.get("function") or {}).get("name", ""))


def _parameters(tool: dict[str, Any]) -> dict[str, Any]:
    parameters = (tool.get("function") or {}).get("parameters")
    return parameters if isinstance(parameters, dict) else {"type": "object", "properties": {}}


def _simplified(schema: Any) -> Any:
    """Only what shapes the JSON (patterns make slow grammars; Toolcore validates the arguments anyway),
    with every free string bounded."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {k: v for k, v in schema.items() if k in _KEEP}
    if "properties" in out:
        out["properties"] = {name: _simplified(sub) for name, sub in out["properties"].items()}
    if "items" in out:
        out["items"] = _simplified(out["items"])
    if "anyOf" in out:
        out["anyOf"] = [_simplified(sub) for sub in out["anyOf"]]
    if out.get("type") == "string" and "enum" not in out and "const" not in out:
        # Unbounded, a small model rambles inside a string until the token limit cuts the call off.
        out["maxLength"] = min(int(schema.get("maxLength", MAX_STRING_CHARS)), MAX_STRING_CHARS)
    if out.get("type") == "object":
        out["additionalProperties"] = False
        out.setdefault("properties", {})
    return out
