"""Tool ids and their OpenAI function names: the one mapping Toolcore and the agent runtime both speak."""

from __future__ import annotations

import re

TOOL_ID = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")
OPENAI_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def openai_name(tool_id: str) -> str:
    """`projects.list` -> `projects__list`: OpenAI function names may not contain dots.

    Reversible for every id `mapping_problem` accepts (no `__`, no `_` beside a `.`), which the
    registry checks at load, so a name the LLM answers with always leads back to exactly one tool.
    """
    return tool_id.replace(".", "__")


def tool_id_of(function_name: str) -> str:
    return function_name.replace("__", ".")


def mapping_problem(tool_id: str) -> str | None:
    """Why `tool_id` cannot round-trip through an OpenAI function name, or None when it can."""
    if not TOOL_ID.match(tool_id):
        return f"tool id {tool_id!r} must match {TOOL_ID.pattern}"
    if "__" in tool_id or "_." in tool_id or "._" in tool_id:
        return f"tool id {tool_id!r} may not contain '__', '_.' or '._' (its OpenAI name would be ambiguous)"
    name = openai_name(tool_id)
    if not OPENAI_NAME.match(name):
        return f"tool id {tool_id!r} maps to OpenAI name {name!r}, longer than 64 characters"
    return None
