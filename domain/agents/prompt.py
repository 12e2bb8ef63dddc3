"""Prompt assembly and the tool-name mapping of an agent turn: pure functions over plain OpenAI messages."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Sequence
from typing import Any

from domain.agents.model import AgentProfile, PromptSettings, Recall, RecalledMemory, ToolResult
from domain.agents.prompt_compact import trimmed, within_budget
from domain.kernel.tool_names import tool_id_of

MEMORY_HEADER = ("Relevant memories (most relevant first). Use them when they help; "
                 "do not claim anything they do not say:")


def build_messages(profile: AgentProfile, text: str, recall: Recall) -> tuple[list[dict[str, Any]], list[str]]:
    """System prompt + memories, the channel's recent turns as chat history, then the user's message.

    Returns the messages and the ids of every memory placed in them (short-term turns included).
    """
    settings = profile.memory
    turns = recall.short_term[-settings.short_term_turns:] if settings.short_term_turns else []
    in_history = {turn.id for turn in turns}
    memories = [m for m in recall.memories if m.id not in in_history and m.score >= settings.min_score]
    memories, turns = within_budget(profile.prompt, memories[: settings.limit], turns)
    messages: list[dict[str, Any]] = [{"role": "system", "content": system_text(profile, memories)}]
    for turn in turns:
        user = turn.user_message or turn.text
        if user.strip():
            messages.append({"role": "user", "content": clip(user, settings.max_chars)})
        if turn.agent_reply.strip():
            messages.append({"role": "assistant", "content": clip(turn.agent_reply, settings.max_chars)})
    messages.append({"role": "user", "content": text})
    return messages, [turn.id for turn in turns] + [m.id for m in memories]


def system_text(profile: AgentProfile, memories: Sequence[RecalledMemory]) -> str:
    parts = [(profile.prompt.system_prompt or profile.system_prompt).strip()]
    if memories:
        lines = [MEMORY_HEADER]
        for memory in memories:
            when = f", {memory.created_at[:10]}" if memory.created_at else ""
            body = " ".join(memory.text.split())
            lines.append(f"- [{memory.tier}-term {memory.kind}{when}] {clip(body, profile.memory.max_chars)}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def offered_tools(available: Sequence[dict[str, Any]], include: Sequence[str]) -> list[dict[str, Any]]:
    """The OpenAI `tools` entries whose tool id matches one of the profile's `include` globs."""
    return [tool for tool in available
            if any(fnmatch.fnmatchcase(tool_id_of(function_name(tool)), pattern) for pattern in include)]


def function_name(tool_or_call: dict[str, Any]) -> str:
    function = tool_or_call.get("function")
    return str(function.get("name", "")) if isinstance(function, dict) else ""


def call_arguments(call: dict[str, Any]) -> dict[str, Any] | None:
    """The arguments of a model's tool call as an object, or None when they are not a JSON object."""
    function = call.get("function")
    raw = function.get("arguments") if isinstance(function, dict) else None
    if isinstance(raw, dict):
        return raw
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else None
    except json.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None


def tool_message(call_id: str, result: ToolResult, max_chars: int, prompt: PromptSettings) -> dict[str, Any]:
    """The `tool` message the model reads: the result (trimmed for a compact prompt), or the error (so it can
    answer anyway)."""
    payload: Any = trimmed(result.result, prompt) if result.error is None else {"error": result.error}
    content = json.dumps(payload, ensure_ascii=False, default=str)
    if len(content) > max_chars:
        content = content[:max_chars] + f" …[truncated: {len(content) - max_chars} more characters]"
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def assistant_tool_message(content: str | None, tool_calls: list[dict[str, Any]]) -> dict[str, Any]:
    return {"role": "assistant", "content": content or None, "tool_calls": tool_calls}


def clip(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "…"
