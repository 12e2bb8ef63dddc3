"""ToolRegistry: FakeRegistry and the YAML registry (loaded from a file like config/tools.yaml) answer alike."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from domain.tools.model import ToolDefinition
from domain.tools.ports import ToolRegistry
from infra.tools.yaml_registry import load_tool_catalog
from tests.fakes.tools import FakeRegistry

SCHEMA = {"type": "object", "properties": {"timezone": {"type": "string"}}, "additionalProperties": False}
TOOLS = [
    ToolDefinition("time.now", "The time", SCHEMA, "python", timeout_s=1, idempotent=True, read_only=True,
                   safe_to_log=True),
    ToolDefinition("tasks.wipe", "Deletes every task", {"type": "object"}, "python",
                   output_schema={"type": "object", "required": ["deleted"]}, retries=1, destructive=True,
                   max_result_bytes=1024),
]


def tools_yaml(path: Path) -> Path:
    """TOOLS as config/tools.yaml states them (both run the shipped clock function; only loading matters)."""
    entries = [
        {**{field: getattr(tool, field) for field in tool.__struct_fields__ if getattr(tool, field) is not None},
         "python": {"function": "infra.tools.python_functions.clock.now"}}
        for tool in TOOLS
    ]
    path.write_text(yaml.safe_dump({"tools": entries}))
    return path


@pytest.fixture(params=["fake", "yaml"], name="registry")
def registry_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> ToolRegistry:
    if request.param == "fake":
        return FakeRegistry(TOOLS)
    return load_tool_catalog(tools_yaml(tmp_path / "tools.yaml")).registry


def test_a_tool_is_found_by_its_id_with_its_whole_definition(registry: ToolRegistry) -> None:
    assert registry.get("time.now") == TOOLS[0]
    assert registry.get("tasks.wipe") == TOOLS[1]


def test_an_unknown_id_is_none(registry: ToolRegistry) -> None:
    assert registry.get("time.later") is None


def test_all_lists_every_tool_once_in_the_order_given(registry: ToolRegistry) -> None:
    assert [tool.id for tool in registry.all()] == ["time.now", "tasks.wipe"]
