"""The scripted turns of the agent evaluation: Sofia of microdao:7, in Ukrainian and English.

Each case says which tools (with which arguments) a right answer needs and which facts it must state;
the facts are read from the projects service's real data at scoring time, never written down here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from domain.agents.language import Language

# {"microdao_id", "agent_id", "projects": [...], "tasks": {project_id: [...]}}: who speaks, and what the
# projects API returns
Data = dict[str, Any]
X = "Project X"
CREATE_TITLE = {"en": "prepare the beta demo video", "uk": "підготувати демо-відео для бети"}


@dataclass(frozen=True)
class Case:
    text: str
    language: Language
    kind: str
    tools: tuple[tuple[str, Callable[[Data], dict[str, Any]]], ...] = ()  # (tool id, expected arguments)
    facts: Callable[[Data], list[str]] = field(default=lambda data: [])


def project_id(data: Data, name: str = X) -> str:
    return next(str(p["id"]) for p in data["projects"] if p["name"] == name)


def tasks_of(data: Data, name: str = X) -> list[dict[str, Any]]:
    return sorted(data["tasks"][project_id(data, name)], key=lambda t: str(t["created_at"]), reverse=True)


def in_x(data: Data) -> dict[str, Any]:
    return {"project_id": project_id(data)}


def titles(status: Callable[[str], bool], limit: int = 6) -> Callable[[Data], list[str]]:
    return lambda data: [t["title"] for t in tasks_of(data) if status(t["status"])][:limit]


def creator(title: str) -> Callable[[Data], list[str]]:
    return lambda data: [next(t["created_by"] for t in tasks_of(data) if t["title"] == title)]


LIST_X = (("tasks.list", in_x),)
NEWEST = titles(lambda status: True, 3)
DONE = titles(lambda status: status == "done")
OPEN = titles(lambda status: status != "done")
IN_PROGRESS = titles(lambda status: status == "in_progress")


def project_names(data: Data) -> list[str]:
    return [str(p["name"]) for p in data["projects"]]


def created(language: Language) -> tuple[tuple[str, Callable[[Data], dict[str, Any]]], ...]:
    return (("task.create", lambda data: {**in_x(data), "title": CREATE_TITLE[language]}),)


CASES: tuple[Case, ...] = (
    Case("What is new in Project X?", "en", "what is new", LIST_X, NEWEST),
    Case("Sofia, що нового в проєкті X?", "uk", "what is new", LIST_X, NEWEST),
    Case("Which tasks of Project X are done?", "en", "tasks done", LIST_X, DONE),
    Case("Які задачі в проєкті X виконано?", "uk", "tasks done", LIST_X, DONE),
    Case("Which tasks in Project X are still open?", "en", "tasks open", LIST_X, OPEN),
    Case("Які задачі в проєкті X ще відкриті?", "uk", "tasks open", LIST_X, OPEN),
    Case("Which tasks of Project X are in progress?", "en", "tasks open", LIST_X, IN_PROGRESS),
    Case("Які задачі проєкту X зараз в роботі?", "uk", "tasks open", LIST_X, IN_PROGRESS),
    Case("Who created the task “Set up staging environment for Project X”?", "en", "who created", LIST_X,
         creator("Set up staging environment for Project X")),
    Case("Хто створив задачу «Kick-off meeting notes»?", "uk", "who created", LIST_X,
         creator("Kick-off meeting notes")),
    Case("Which projects does our microDAO have?", "en", "projects", (("projects.list", lambda data: {}),),
         project_names),
    Case("Які проєкти є в нашому мікроДАО?", "uk", "projects", (("projects.list", lambda data: {}),), project_names),
    Case("When do we plan the beta launch of Project X?", "en", "memory", (), lambda data: ["mid-December"]),
    Case("Коли плануємо бета-запуск Project X?", "uk", "memory", (), lambda data: ["mid-December"]),
    Case("What is the deadline of the treasury report?", "en", "memory", (), lambda data: ["5th"]),
    Case("Хто готує специфікацію escrow-контракту?", "uk", "memory", (), lambda data: ["Sofia", "escrow"]),
    Case("Hi Sofia, who are you?", "en", "no tool", (), lambda data: ["Sofia"]),
    Case("Привіт! Хто ти?", "uk", "no tool", (), lambda data: ["Sofia"]),
    Case("What is the capital of France?", "en", "off-topic"),
    Case("Яка столиця Франції?", "uk", "off-topic"),
    Case(f"Create a task in Project X: {CREATE_TITLE['en']}", "en", "create a task", created("en"),
         lambda data: [CREATE_TITLE["en"]]),
    Case(f"Створи задачу в проєкті X: {CREATE_TITLE['uk']}", "uk", "create a task", created("uk"),
         lambda data: [CREATE_TITLE["uk"]]),
)
QUICK = tuple(CASES[i] for i in (0, 1, 3, 9, 11, 12, 17, 19, 21))
