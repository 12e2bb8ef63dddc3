"""Grounded mode, part two: the reply, rendered by the runtime in the question's language from the turn's
tool results and memories; the model writes none of it. Facts are picked by what the question asks
(a status, who created a task, the latest ones) and listed newest first, at most `max_items` lines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from domain.agents.grounded_plan import asked_status, named_items, projects_in, words
from domain.agents.grounded_words import (
    CREATOR_WORDS,
    REMEMBER_WORDS,
    TEXT,
    english_query,
    quoted,
    status_label,
)
from domain.agents.language import Language
from domain.agents.model import AgentProfile, Recall, RecalledMemory, ToolResult

Call = tuple[str, dict[str, Any], ToolResult]


class Reply:
    def __init__(self, profile: AgentProfile, question: str, language: Language) -> None:
        self.profile, self.question, self.language = profile, question, language
        self.text = TEXT[language]
        self.lines: list[str] = []

    def say(self, key: str, **values: Any) -> None:
        self.lines.append(self.text[key].format(**values))


def render(profile: AgentProfile, question: str, language: Language, calls: Sequence[Call],
           missing: Sequence[tuple[str, list[str]]], memories: Sequence[RecalledMemory]) -> str:
    reply = Reply(profile, question, language)
    results = [(tool_id, result.result) for tool_id, _, result in calls if result.error is None]
    read_projects = any(tool_id != "projects.list" for tool_id, _ in results) or not results
    if any(word in question.lower() for word in CREATOR_WORDS):
        lists = [r for _, r in results if isinstance(r, dict) and isinstance(r.get("tasks"), list)]
        if lists:
            _creator(reply, [task for listed in lists for task in listed["tasks"] if isinstance(task, dict)])
            calls = [call for call in calls if call[2].error is not None]
    for tool_id, arguments, result in calls:
        if result.error is not None:
            reply.say("failed", tool=tool_id, error=result.error.get("type", "error"))
        elif tool_id != "projects.list" or not read_projects:
            _result(reply, tool_id, arguments, result.result, results)
    for tool_id, names in missing:
        projects = projects_in(results)
        if names == ["project_id"] and projects:
            reply.say("which_project", names=", ".join(quoted(p["name"], language) for p in projects))
        else:
            reply.say("missing", tool=tool_id, names=", ".join(names))
    if not reply.lines and _asks_to_remember(question):
        reply.say("noted")  # the turn itself is the note: stored (the user's words) once it passes the check
    if not reply.lines:
        _from_memory(reply, memories)
    if not reply.lines:
        reply.say("intro", name=profile.display_name, microdao=profile.microdao_id)
    return "\n".join(reply.lines)


def _result(reply: Reply, tool_id: str, arguments: dict[str, Any], result: Any,
            results: Sequence[tuple[str, Any]]) -> None:
    if isinstance(result, dict) and isinstance(result.get("projects"), list):
        _projects(reply, result["projects"])
    elif isinstance(result, dict) and isinstance(result.get("tasks"), list):
        project = quoted(_project_name(result.get("project_id") or arguments.get("project_id"), results),
                         reply.language)
        _tasks(reply, project, result["tasks"])
    elif isinstance(result, dict) and {"id", "title", "status"} <= result.keys():
        project = quoted(_project_name(result.get("project_id"), results), reply.language)
        reply.say("created", title=quoted(result["title"], reply.language), project=project,
                  status=status_label(result["status"], reply.language), id=result["id"])
    else:
        reply.say("result", tool=tool_id)
        reply.lines.extend(_plain(result)[: reply.profile.answer.max_items])


def _projects(reply: Reply, projects: list[Any]) -> None:
    reply.say("projects", microdao=reply.profile.microdao_id)
    for project in projects[: reply.profile.answer.max_items]:
        reply.say("project_line", name=quoted(str(project.get("name")), reply.language),
                  status=status_label(str(project.get("status")), reply.language), open=project.get("open_tasks"))


def _tasks(reply: Reply, project: str, tasks: list[Any]) -> None:
    tasks = sorted((t for t in tasks if isinstance(t, dict)), key=lambda t: str(t.get("created_at")), reverse=True)
    status = asked_status(reply.question)
    if status == "open":
        tasks, which = [t for t in tasks if t.get("status") != "done"], reply.text["open"]
    elif status is not None:
        tasks, which = [t for t in tasks if t.get("status") == status], status_label(status, reply.language)
    else:
        which = reply.text["latest"]
    if not tasks:
        reply.say("none", project=project, which=which)
        return
    reply.say("tasks", project=project, which=which)
    for task in tasks[: reply.profile.answer.max_items]:
        reply.say("task_line", title=quoted(str(task.get("title")), reply.language),
                  status=status_label(str(task.get("status")), reply.language),
                  assignee=task.get("assignee") or reply.text["nobody"], date=str(task.get("created_at"))[:10],
                  author=task.get("created_by"))


def _creator(reply: Reply, tasks: list[dict[str, Any]]) -> None:
    asked = words(reply.question)
    scored = [(len(words(str(t.get("title"))) & asked), t) for t in tasks]
    best = max(scored, key=lambda pair: pair[0], default=(0, None))
    named = named_items(reply.question, [{**t, "name": t.get("title")} for t in tasks])
    task = named[0] if named else best[1] if best[0] >= 2 else None
    if task is None:
        reply.say("no_match")
        return
    reply.say("creator", title=quoted(str(task.get("title")), reply.language), author=task.get("created_by"),
              date=str(task.get("created_at"))[:10], status=status_label(str(task.get("status")), reply.language))


def cited_memory(profile: AgentProfile, question: str, memories: Sequence[RecalledMemory]) -> RecalledMemory | None:
    """The one memory a reply without tool results cites: the best scored of those that score enough and share
    enough words with the question (ranks alone say nothing of relevance when memory holds a handful)."""
    for asked in (_informative(question), _informative(english_query(question))):  # its own language first
        relevant = [m for m in memories if m.score >= profile.answer.min_memory_score and said_in(m)[1]
                    and len(asked & _informative(m.text)) >= profile.answer.min_shared_words]
        if relevant:
            return max(relevant, key=lambda m: m.score)
    return None


def merged(recall: Recall, extra: Recall) -> Recall:
    """The memories of both recalls, each once with its better score (the second asked across languages)."""
    best = {m.id: m for m in extra.memories}
    best.update({m.id: m for m in recall.memories if m.id not in best or m.score >= best[m.id].score})
    return Recall(recall.short_term, sorted(best.values(), key=lambda m: m.score, reverse=True))


def said_in(memory: RecalledMemory) -> tuple[str, str]:
    """What a memory can be cited for, and who said it: the agent's reply of a conversation; else (a grounded
    turn stores only the user's words) what the user stated; never a question; ("", "") if nothing."""
    agent = memory.text.partition("Agent:")[2].strip()
    user = memory.text.partition("User:")[2].strip() if memory.text.startswith("User:") else memory.text.strip()
    key, said = ("memory", agent) if agent else ("told", user)
    return (key, said) if said and not said.endswith("?") else ("", "")  # a question (even echoed) is no fact


def _asks_to_remember(question: str) -> bool:
    lowered = question.lower().strip()
    return any(word in lowered for word in REMEMBER_WORDS) and not lowered.endswith("?")


def _informative(text: str) -> set[str]:
    return {word for word in words(text) if len(word) >= 4}


def _from_memory(reply: Reply, memories: Sequence[RecalledMemory]) -> None:
    memory = cited_memory(reply.profile, reply.question, memories)
    if memory is None:
        return
    key, said = said_in(memory)
    reply.say(key, date=(memory.created_at or "")[:10] or "?", text=quoted(" ".join(said.split()), reply.language))


def _project_name(project_id: Any, results: Sequence[tuple[str, Any]]) -> str:
    names = {p["id"]: p.get("name") for p in projects_in(results)}
    return f"{names.get(project_id) or project_id}"


def _plain(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [f"• {key}: {json.dumps(item, ensure_ascii=False, default=str)}" for key, item in value.items()]
    if isinstance(value, list):
        return [f"• {json.dumps(item, ensure_ascii=False, default=str)}" for item in value]
    return [f"• {value}"]
