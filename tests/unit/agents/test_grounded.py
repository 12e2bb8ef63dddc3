"""Grounded mode's pure parts: the language of a message, the runtime's plan of tool calls, the rendered
reply, and the grounding check that keeps invented facts out of memory."""

from __future__ import annotations

from typing import Any

from domain.agents.grounded_plan import asked_status, calls_for, route_for, title_in
from domain.agents.grounded_render import render
from domain.agents.grounded_words import english_query
from domain.agents.grounding import grounding_problems
from domain.agents.language import language_of, speaks
from domain.agents.model import AgentProfile, AnswerSettings, RecalledMemory, Route, ToolResult
from domain.kernel.tool_calls import ToolCallStatus

SOFIA = AgentProfile("agent:sofia", "microdao:7", "Sofia", "You are Sofia.", "m", answer=AnswerSettings(
    mode="grounded", routes=(Route(("create a task",), ("projects.list", "task.create")),
                             Route(("task", "задач", "нового"), ("projects.list", "tasks.list")))))
PROJECTS = {"projects": [{"id": "prj_x", "name": "Project X", "status": "active", "open_tasks": 2},
                         {"id": "prj_t", "name": "Treasury reporting", "status": "active", "open_tasks": 1}]}
TASKS = {"project_id": "prj_x", "tasks": [
    {"id": "1", "title": "Draft the escrow spec", "status": "in_progress", "assignee": "agent:sofia",
     "created_by": "member:olena", "created_at": "2026-11-30T10:00:00Z"},
    {"id": "2", "title": "Kick-off meeting notes", "status": "done", "assignee": None,
     "created_by": "member:taras", "created_at": "2026-11-20T10:00:00Z"}]}
TASKS_LIST = {"type": "function", "function": {"name": "tasks__list", "parameters": {
    "type": "object", "required": ["project_id"],
    "properties": {"project_id": {"type": "string"}, "status": {"type": "string", "enum": ["todo", "in_progress", "done"]}}}}}
TASK_CREATE = {"type": "function", "function": {"name": "task__create", "parameters": {
    "type": "object", "required": ["project_id", "title"],
    "properties": {"project_id": {"type": "string"}, "title": {"type": "string"}}}}}


def ok(result: Any) -> ToolResult:
    return ToolResult(ToolCallStatus.SUCCEEDED, result=result)


def test_a_question_mostly_in_cyrillic_is_ukrainian_quotations_and_ids_aside() -> None:
    assert language_of("Хто створив задачу «Kick-off meeting notes»?") == "uk"
    assert language_of("Sofia, what is new in Project X?") == "en"
    assert speaks("Задачі проєкту «Project X»: member:olena, 2026-11-30", "uk")
    assert not speaks("Нового в проєкті X, если я саме объядений.", "uk")  # Russian letters: garbled


def test_the_first_matching_route_wins_and_fills_arguments_from_the_question_and_earlier_results() -> None:
    route = route_for(SOFIA.answer, "Які задачі в проєкті X виконано?")
    assert route is not None and route.tools == ("projects.list", "tasks.list")
    calls, missing = calls_for("tasks.list", "Які задачі в проєкті X виконано?", TASKS_LIST, [("projects.list", PROJECTS)])
    assert calls == [{"status": "done", "project_id": "prj_x"}] and missing == []
    every, _ = calls_for("tasks.list", "Who created the task about escrow?", TASKS_LIST, [("projects.list", PROJECTS)])
    assert [c["project_id"] for c in every] == ["prj_x", "prj_t"]
    assert asked_status("which tasks are not done?") == "open"


def test_a_write_needs_a_named_project_and_takes_its_title_after_the_colon() -> None:
    assert title_in("Create a task in Project X: prepare the demo") == "prepare the demo"
    calls, _ = calls_for("task.create", "Create a task in Project X: prepare the demo", TASK_CREATE,
                         [("projects.list", PROJECTS)])
    assert calls == [{"title": "prepare the demo", "project_id": "prj_x"}]
    none, missing = calls_for("task.create", "Create a task: prepare the demo", TASK_CREATE, [("projects.list", PROJECTS)])
    assert none == [] and missing == ["project_id"]


def test_the_reply_lists_only_the_asked_for_tasks_in_the_questions_language() -> None:
    calls = [("projects.list", {}, ok(PROJECTS)), ("tasks.list", {"project_id": "prj_x"}, ok(TASKS))]
    reply = render(SOFIA, "Які задачі в проєкті X виконано?", "uk", calls, [], [])
    assert "«Kick-off meeting notes» — виконано" in reply and "escrow" not in reply
    assert speaks(reply, "uk")
    who = render(SOFIA, "Who created the task “Kick-off meeting notes”?", "en", calls, [], [])
    assert who == "The task “Kick-off meeting notes” was created by member:taras on 2026-11-20 (status: done)."


def test_with_no_tool_result_a_relevant_memory_is_cited_else_the_agent_says_what_it_can_do() -> None:
    memory = RecalledMemory("m1", "mid", "conversation", "User: when is the beta launch?\nAgent: Beta launch in "
                            "mid-December.", 0.032, "2026-11-27T10:00:00Z")
    cited = render(SOFIA, "When is the beta launch?", "en", [], [], [memory])
    assert cited == "From my notes (2026-11-27): “Beta launch in mid-December.”"
    assert render(SOFIA, "When is lunch?", "en", [], [], [memory]).startswith("I am Sofia")  # one shared word
    weak = RecalledMemory("m2", "mid", "conversation", "Agent: unrelated", 0.016)
    assert render(SOFIA, "Яка столиця Франції?", "uk", [], [], [weak]).startswith("Я — Sofia")


def test_what_a_user_told_a_grounded_turn_is_cited_later_but_never_a_question_they_asked() -> None:
    told = RecalledMemory("m1", "mid", "conversation", "User: Запам'ятай: демо для інвесторів у четвер о 15:00",
                          0.032, "2026-12-01T10:00:00Z")
    asked = RecalledMemory("m2", "mid", "conversation", "User: Коли демо для інвесторів?", 0.033)
    assert render(SOFIA, "Запам'ятай: демо для інвесторів у четвер о 15:00", "uk", [], [], [told]) == "Запам'ятала."
    assert render(SOFIA, "Коли демо для інвесторів?", "uk", [], [], [asked, told]) == (
        "Мені сказали (2026-12-01): «Запам'ятай: демо для інвесторів у четвер о 15:00»")
    assert render(SOFIA, "Коли демо для інвесторів?", "uk", [], [], [asked]).startswith("Я — Sofia")
    echoed = RecalledMemory("m3", "mid", "conversation", "User: Коли демо для інвесторів?\nAgent: Коли демо?", 0.04)
    assert render(SOFIA, "Коли демо для інвесторів?", "uk", [], [], [echoed]).startswith("Я — Sofia")


def test_a_ukrainian_question_cites_an_english_memory_through_known_words_but_its_own_language_first() -> None:
    assert english_query("Коли плануємо бета-запуск Project X?") == "when plan beta launch Project X"
    assert english_query("Яка столиця Франції?") == ""
    english = RecalledMemory("en", "mid", "conversation", "User: When do we plan the beta launch of Project X?\n"
                             "Agent: Beta launch in mid-December.", 0.033, "2026-11-27T10:00:00Z")
    ukrainian = RecalledMemory("uk", "mid", "conversation", "User: Коли бета-запуск?\nAgent: Бета-запуск у грудні.",
                               0.030, "2026-11-28T10:00:00Z")
    assert render(SOFIA, "Коли плануємо бета-запуск Project X?", "uk", [], [], [english]) == (
        "З моїх нотаток (2026-11-27): «Beta launch in mid-December.»")
    assert "у грудні" in render(SOFIA, "Коли плануємо бета-запуск Project X?", "uk", [], [], [english, ukrainian])


def test_the_grounding_check_refuses_invented_dates_ids_and_titles_and_the_wrong_language() -> None:
    sources = ['{"title": "Kick-off meeting notes", "created_at": "2026-11-20", "created_by": "member:taras"}']
    assert grounding_problems("“Kick-off meeting notes” by member:taras, 2026-11-20", "en", sources) == []
    problems = grounding_problems("“Launch the rocket” is done since 2025-01-01 (member:ghost)", "en", sources)
    assert problems == ["not in any tool result or memory: 2025-01-01, member:ghost, Launch the rocket"]
    assert grounding_problems("Kick-off notes are done.", "uk", sources) == ["not in the question's language (uk)"]
