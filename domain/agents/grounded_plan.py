"""Grounded mode, part one: which tool calls answer the question, decided by the runtime.

A route (config) names the tools; their arguments are filled by name from what is known for sure:
  project_id   the projects named in the question, found in an earlier result's {id, name} items
               (none named: every project, for a read; a write asks which one)
  status       a status the question asks for, when the tool's schema lists it
  title        the question's quoted text, or what follows its first colon
A call whose required argument cannot be filled is not made (the reply says what is missing).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from domain.agents.language import quotations
from domain.agents.model import AnswerSettings, Route
from domain.agents.prompt import function_name
from domain.kernel.tool_names import tool_id_of

# (status, fragments): first match wins, so "not done" is open before "done" is done.
STATUS_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("open", ("not done", "open", "pending", "unfinished", "відкрит", "незаверш", "невиконан", "активн")),
    ("in_progress", ("in progress", "в роботі", "у роботі", "в процесі")),
    ("todo", ("todo", "to do", "to-do", "не почат")),
    ("done", ("done", "finished", "completed", "closed", "викона", "заверш", "готов", "зроблен", "закрит")),
)
_WORD = re.compile(r"\w+")
_GENERIC = frozenset({"project", "projects", "проєкт", "проект"})


def route_for(settings: AnswerSettings, question: str) -> Route | None:
    lowered = question.lower()
    return next((route for route in settings.routes if any(f in lowered for f in route.when)), None)


def asked_status(question: str) -> str | None:
    lowered = question.lower()
    return next((status for status, words in STATUS_WORDS if any(w in lowered for w in words)), None)


def words(text: str) -> set[str]:
    return {word.lower() for word in _WORD.findall(text)}


def named_items(question: str, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items whose name the question mentions: whole, or by a distinctive word of it ("проєкт X")."""
    lowered, asked = question.lower(), words(question)
    found = []
    for item in items:
        name = str(item.get("name", ""))
        distinctive = words(name) - _GENERIC
        if name and (name.lower() in lowered or (distinctive and distinctive <= asked)):
            found.append(item)
    return found


def projects_in(results: Sequence[tuple[str, Any]]) -> list[dict[str, Any]]:
    for _, result in results:
        if isinstance(result, dict) and isinstance(result.get("projects"), list):
            return [p for p in result["projects"] if isinstance(p, dict) and "id" in p]
    return []


def title_in(question: str) -> str | None:
    quoted = quotations(question)
    if quoted:
        return quoted[0].strip()
    _, colon, rest = question.partition(":")
    return rest.strip().rstrip("?.!") or None if colon else None


def calls_for(
    tool_id: str, question: str, tool: dict[str, Any], results: Sequence[tuple[str, Any]],
) -> tuple[list[dict[str, Any]], list[str]]:
    """The calls to make of one routed tool, and the names of required arguments nobody could fill."""
    parameters = (tool.get("function") or {}).get("parameters") or {}
    properties: dict[str, Any] = parameters.get("properties") or {}
    required = set(parameters.get("required") or ())
    base: dict[str, Any] = {}
    status = asked_status(question)
    if "status" in properties and status in (properties["status"].get("enum") or ()):
        base["status"] = status
    if "title" in properties and (title := title_in(question)):
        base["title"] = title[:200]
    missing = sorted(name for name in required - base.keys() if name != "project_id")
    if "project_id" not in properties:
        return ([] if missing else [base]), missing
    projects = projects_in(results)
    named = named_items(question, projects)
    writes = "title" in properties
    targets = named[:1] if writes else (named or projects)[:3]
    if not targets:
        return [], sorted({*missing, "project_id"}) if "project_id" in required else missing
    return ([] if missing else [{**base, "project_id": p["id"]} for p in targets]), missing


def offered_by_id(tools: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {tool_id_of(function_name(tool)): tool for tool in tools}
