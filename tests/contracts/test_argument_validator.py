"""ArgumentValidator: FakeValidator and JsonSchemaValidator report the same violations, paths and messages,
for the part of JSON Schema the fake knows (top-level type, required properties, property types)."""

from __future__ import annotations

from typing import Any

import pytest

from domain.tools.model import ToolDefinition
from domain.tools.ports import ArgumentValidator
from infra.tools.json_schema import JsonSchemaValidator
from tests.fakes.tools import FakeValidator

INPUT = {"type": "object", "properties": {"project_id": {"type": "string"}, "limit": {"type": "integer"},
                                          "urgent": {"type": "boolean"}}, "required": ["project_id", "title"]}
TASKS = ToolDefinition("task.create", "create a task", INPUT, "http",
                       output_schema={"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]})
CLOCK = ToolDefinition("time.now", "the time", {"type": "object"}, "python")


@pytest.fixture(params=["fake", "jsonschema"], name="validator")
def validator_fixture(request: pytest.FixtureRequest) -> ArgumentValidator:
    return FakeValidator() if request.param == "fake" else JsonSchemaValidator([TASKS, CLOCK])


def test_valid_arguments_have_no_errors(validator: ArgumentValidator) -> None:
    assert validator.argument_errors(TASKS, {"project_id": "p1", "title": "x", "limit": 3, "urgent": False}) == []


@pytest.mark.parametrize("args, errors", [
    ({"project_id": "p1"}, [("$", "'title' is a required property")]),
    ({}, [("$", "'project_id' is a required property"), ("$", "'title' is a required property")]),
    ({"project_id": 7, "title": "x", "limit": "3", "urgent": 1},
     [("$.limit", "'3' is not of type 'integer'"), ("$.project_id", "7 is not of type 'string'"),
      ("$.urgent", "1 is not of type 'boolean'")]),
    ({"project_id": "p", "title": "x", "limit": True}, [("$.limit", "True is not of type 'integer'")]),
    (["p1"], [("$", "['p1'] is not of type 'object'")]),
])
def test_each_violation_is_reported_once_with_its_path_in_a_stable_order(
    validator: ArgumentValidator, args: Any, errors: list[tuple[str, str]],
) -> None:
    assert validator.argument_errors(TASKS, args) == [{"path": path, "message": m} for path, m in errors]


def test_a_result_is_checked_against_the_output_schema(validator: ArgumentValidator) -> None:
    assert validator.result_errors(TASKS, {"id": "t1"}) == []
    assert validator.result_errors(TASKS, {"title": "x"}) == [{"path": "$", "message": "'id' is a required property"}]
    assert validator.result_errors(TASKS, {"id": 5}) == [{"path": "$.id", "message": "5 is not of type 'string'"}]


def test_a_tool_without_an_output_schema_accepts_any_result(validator: ArgumentValidator) -> None:
    assert validator.result_errors(CLOCK, ["anything", 1, None]) == []
