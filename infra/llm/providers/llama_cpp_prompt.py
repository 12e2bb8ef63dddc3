"""A conversation as the chat template of a small local model can take it, within its context window.

Chat templates of such models know only system/user/assistant with string content, so tool traffic is
rendered as text here: a result becomes a readable user message naming the tool; the call itself is left
out (rendered as a line of text, SmolLM2 copies it into its answer instead of answering).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def template_messages(messages: list[dict[str, Any]], max_result_chars: int = 1500) -> list[dict[str, str]]:
    names = {call.get("id"): function_name(call) for m in messages for call in m.get("tool_calls") or []}
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


def function_name(tool_or_call: dict[str, Any]) -> str:
    return str((tool_or_call.get("function") or {}).get("name", ""))


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
