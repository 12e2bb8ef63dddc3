"""The tool step for small local models: decision grammar, parsing, fallbacks, rendering, fitting the context.
(No model needed; tests/integration/llm/test_proxy_llama_cpp.py runs the real one.)"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.llm.providers.llama_cpp_engine import locate_weights, repeats_a_line
from infra.llm.providers.llama_cpp_prompt import fit, readable, template_messages
from infra.llm.providers.llama_cpp_tools import (
    decision_schema,
    parse_decision,
    repeats_a_call,
    with_instruction,
)

TASKS = {"type": "function", "function": {"name": "tasks__list", "description": "Recent tasks", "parameters": {
    "type": "object", "additionalProperties": False, "required": ["project_id"],
    "properties": {"project_id": {"type": "string", "pattern": "^[a-z_]{1,64}$", "description": "id"},
                   "status": {"type": "string", "enum": ["todo", "done"]}}}}}
PROJECTS = {"type": "function", "function": {"name": "projects__list", "description": "Projects",
                                             "parameters": {"type": "object", "properties": {}}}}


def names(schema: dict[str, Any] | None) -> list[str]:
    assert schema is not None
    return [option["properties"]["tool"]["const"] for option in schema["anyOf"]]


def test_the_decision_is_one_of_the_offered_functions_or_none() -> None:
    schema = decision_schema([TASKS, PROJECTS], "auto")
    assert names(schema) == ["tasks__list", "projects__list", "none"]
    assert schema is not None
    arguments = schema["anyOf"][0]["properties"]["arguments"]
    assert arguments == {"type": "object", "additionalProperties": False, "required": ["project_id"],
                         "properties": {"project_id": {"type": "string", "maxLength": 48},
                                        "status": {"type": "string", "enum": ["todo", "done"]}}}


def test_tool_choice_none_required_or_one_function_shape_the_decision() -> None:
    assert decision_schema([TASKS], "none") is None
    assert decision_schema(None, "auto") is None
    assert names(decision_schema([TASKS, PROJECTS], "required")) == ["tasks__list", "projects__list"]
    forced = {"type": "function", "function": {"name": "projects__list"}}
    assert names(decision_schema([TASKS, PROJECTS], forced)) == ["projects__list"]


@pytest.mark.parametrize("text, expected", [
    ('{"tool": "none"}', None),
    ('{"tool": "tasks__list", "arguments": {"project_id": "p"}}', ("tasks__list", {"project_id": "p"})),
    ('{"tool": "tasks__list", "arguments": {"project_id": "prj_proj', None),  # cut off at the token limit
    ("not json at all", None),
])
def test_a_decision_is_a_call_only_when_it_is_complete_and_names_a_tool(text: str, expected: Any) -> None:
    assert parse_decision(text) == expected


def test_repeating_a_call_already_made_this_turn_is_recognised() -> None:
    made: dict[str, Any] = {"role": "assistant", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "tasks__list", "arguments": '{"project_id": "p"}'}}]}
    turn: list[dict[str, Any]] = [{"role": "user", "content": "q"}, made, {"role": "tool", "tool_call_id": "c1", "content": "[]"}]
    assert repeats_a_call("tasks__list", {"project_id": "p"}, turn)
    assert not repeats_a_call("tasks__list", {"project_id": "other"}, turn)
    assert not repeats_a_call("tasks__list", {"project_id": "p"}, [made, {"role": "user", "content": "again"}])


def test_tool_traffic_is_rendered_as_plain_chat_a_small_template_can_take() -> None:
    result = json.dumps({"projects": [{"id": "prj_x", "name": "Project X", "open_tasks": 4, "note": None}]})
    messages: list[dict[str, Any]] = [
        {"role": "developer", "content": "sys"},
        {"role": "user", "content": [{"type": "text", "text": "what's new?"}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "projects__list", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": result},
    ]
    assert template_messages(messages) == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "what's new?"},
        {"role": "user", "content": "Result of projects__list:\nprojects:\n- id: prj_x; name: Project X; open_tasks: 4"},
    ]
    assert readable("plain text", 5) == "plain"


def test_the_decision_instruction_joins_the_system_message() -> None:
    assert with_instruction([{"role": "system", "content": "S"}, {"role": "user", "content": "u"}], "I") == [
        {"role": "system", "content": "S\n\nI"}, {"role": "user", "content": "u"}]
    assert with_instruction([{"role": "user", "content": "u"}], "I")[0] == {"role": "system", "content": "I"}


def test_a_long_prompt_loses_its_oldest_history_first_then_long_messages_are_cut() -> None:
    def count(messages: list[dict[str, str]]) -> int:
        return sum(len(m["content"]) for m in messages)

    messages = [{"role": "system", "content": "s" * 10}, {"role": "user", "content": "old" * 10},
                {"role": "assistant", "content": "reply" * 10}, {"role": "user", "content": "now"},
                {"role": "user", "content": "r" * 400}]
    fitted = fit(messages, count, 300, keep_last=2)
    assert [m["content"][:3] for m in fitted] == ["sss", "now", "rrr"] and count(fitted) <= 300
    with pytest.raises(ValueError, match="more than the 5 tokens"):
        fit([{"role": "user", "content": "x" * 100}], count, 5)


def test_weights_that_are_not_there_are_reported_as_missing(tmp_path: Any) -> None:
    assert locate_weights(str(tmp_path / "absent.gguf")) is None


def test_a_model_starting_to_repeat_a_line_is_noticed() -> None:
    assert repeats_a_line("Project X is new.\nIt has tasks.\nProject X is new.\n")
    assert not repeats_a_line("Project X is new.\nIt has tasks.\nProject X is new")  # line not finished
    assert not repeats_a_line("ok\nok\n")  # too short to call it a loop
    almost = "Then: the Project X rules for 2023 with your new model.\n"
    assert repeats_a_line(almost + "Other.\n" + almost.replace("model", "models"))  # loops drift a little
    assert repeats_a_line(almost + "Other.\n" + almost[:33])  # caught 32 characters into the repeat
    assert not repeats_a_line(almost + "Other.\n" + almost[:31])
