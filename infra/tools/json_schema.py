"""JSON Schema checks with `jsonschema`: schemas are checked against their metaschema at load, and
arguments/results are validated with one compiled validator per tool (compiling per call costs more
than validating)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jsonschema import Draft202012Validator, exceptions, validators
from jsonschema.protocols import Validator

from domain.tools.model import ToolDefinition


def schema_problem(schema: Any) -> str | None:
    """Why `schema` is not a usable JSON Schema (by its own `$schema` dialect, else 2020-12), or None."""
    if not isinstance(schema, dict):
        return "must be a JSON Schema object"
    try:
        validators.validator_for(schema, default=Draft202012Validator).check_schema(schema)
    except exceptions.SchemaError as exc:
        return f"is not a valid JSON Schema: {exc.message} (at {json_path(exc.absolute_path)})"
    return None


def json_path(parts: Iterable[str | int]) -> str:
    """`["tasks", 0, "title"]` -> `$.tasks[0].title`: the path format every 422 body uses."""
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


class JsonSchemaValidator:
    def __init__(self, tools: Iterable[ToolDefinition]) -> None:
        self._inputs: dict[str, Validator] = {}
        self._outputs: dict[str, Validator] = {}
        for tool in tools:
            self._inputs[tool.id] = _compile(tool.input_schema)
            if tool.output_schema is not None:
                self._outputs[tool.id] = _compile(tool.output_schema)

    def argument_errors(self, tool: ToolDefinition, args: dict[str, Any]) -> list[dict[str, str]]:
        return _errors(self._inputs[tool.id], args)

    def result_errors(self, tool: ToolDefinition, result: Any) -> list[dict[str, str]]:
        validator = self._outputs.get(tool.id)
        return [] if validator is None else _errors(validator, result)


def _compile(schema: dict[str, Any]) -> Validator:
    cls = validators.validator_for(schema, default=Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _errors(validator: Validator, instance: Any) -> list[dict[str, str]]:
    if validator.is_valid(instance):  # the common case, and several times cheaper than collecting errors
        return []
    found = sorted(validator.iter_errors(instance), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [{"path": json_path(error.absolute_path), "message": error.message} for error in found]
