"""config/tools.yaml is validated whole at load, and every refusal names the key to fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.platform.config_files import ConfigError
from infra.tools.yaml_registry import load_tool_catalog
from tests.support import REPO

OBJECT: dict[str, Any] = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}


def http_tool(**overrides: Any) -> dict[str, Any]:
    tool = {"id": "search.run", "description": "d", "executor": "http", "input_schema": OBJECT,
            "http": {"url": "https://api.example.org/search/{q}"}}
    tool.update(overrides)
    return tool


def load(tmp_path: Path, document: dict[str, Any]) -> Any:
    path = tmp_path / "tools.yaml"
    path.write_text(yaml.safe_dump(document))
    return load_tool_catalog(path)


def refusal(tmp_path: Path, document: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, document)
    return str(raised.value)


def test_the_shipped_config_loads_with_the_demo_tools_and_sofias_grant() -> None:
    catalog = load_tool_catalog(REPO / "config" / "tools.yaml")
    ids = {tool.id for tool in catalog.registry.all()}
    assert {"projects.list", "tasks.list", "task.create", "time.now", "math.eval"} <= ids
    assert catalog.grants[0].agent == "agent:sofia" and catalog.grants[0].microdao == "microdao:7"


def test_an_input_schema_that_fails_the_metaschema_names_the_tool_key(tmp_path: Path) -> None:
    message = refusal(tmp_path, {"tools": [http_tool(input_schema={"type": "objekt"})]})
    assert "tools[0].input_schema" in message


def test_a_wrongly_typed_field_names_its_path(tmp_path: Path) -> None:
    assert "$.tools[0].timeout_s" in refusal(tmp_path, {"tools": [http_tool(timeout_s="soon")]})


def test_an_id_whose_openai_name_is_ambiguous_is_refused(tmp_path: Path) -> None:
    assert "tools[0].id" in refusal(tmp_path, {"tools": [http_tool(id="search__run")]})


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    assert "duplicate" in refusal(tmp_path, {"tools": [http_tool(), http_tool()]})


def test_a_placeholder_in_the_host_is_refused_so_arguments_never_choose_the_destination(tmp_path: Path) -> None:
    tool = http_tool(http={"url": "https://{q}.example.org/search"})
    assert "tools[0].http.url" in refusal(tmp_path, {"tools": [tool]})


def test_a_path_placeholder_must_be_a_required_argument(tmp_path: Path) -> None:
    tool = http_tool(http={"url": "https://api.example.org/search/{page}"})
    assert "{page}" in refusal(tmp_path, {"tools": [tool]})


def test_a_python_function_outside_the_allowed_modules_is_refused(tmp_path: Path) -> None:
    tool = {"id": "shell.run", "description": "d", "executor": "python", "input_schema": OBJECT,
            "python": {"function": "subprocess.run"}}
    message = refusal(tmp_path, {"tools": [tool]})
    assert "tools[0].python.function" in message and "allowed_modules" in message


def test_a_name_imported_into_an_allowed_module_is_not_a_registered_function(tmp_path: Path) -> None:
    tool = {"id": "clock.zone", "description": "d", "executor": "python", "input_schema": OBJECT,
            "python": {"function": "infra.tools.python_functions.clock.ZoneInfo"}}
    assert "not a function defined" in refusal(tmp_path, {"tools": [tool]})


def test_a_grant_naming_no_subject_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, {"tools": [http_tool()], "permissions": [{"allow": ["*"]}]})
    assert "permissions[0]" in message


def test_an_internal_service_named_by_host_name_must_list_its_networks(tmp_path: Path) -> None:
    document = {"services": {"crm": {"base_url": "http://crm.internal:8080", "internal": True}},
                "tools": [http_tool(http={"service": "crm", "path": "/x"})]}
    assert "services.crm" in refusal(tmp_path, document)


def test_a_service_base_url_can_be_overridden_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRM_URL", "http://127.0.0.1:9999")
    document = {"services": {"crm": {"base_url": "http://127.0.0.1:1", "base_url_env": "CRM_URL", "internal": True}},
                "tools": [http_tool(http={"service": "crm", "path": "/x/{q}"})]}
    catalog = load(tmp_path, document)
    assert catalog.http_targets["search.run"].origin == ("http", "127.0.0.1", 9999)
    assert catalog.internal_origins[0].origin == ("http", "127.0.0.1", 9999)
