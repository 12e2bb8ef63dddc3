"""The caller's own key travels only with tools configured to forward it, only to internal services; and the
internal allowance of a service named by host name (compose's `projects`) comes from its networks variable.
No network: lookups are answered by stubs, and the executor refuses before connecting."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import yaml
from ssrfguard import BlockedAddressError

from domain.kernel.credential import Credential
from domain.tools.model import ToolCall, ToolDefinition, ToolFailure
from infra.platform.config_files import ConfigError
from infra.tools.executors.http_executor import HttpToolExecutor
from infra.tools.executors.http_request import HttpTarget, build_request, origin_of
from infra.tools.ssrf import GuardedResolver, OutboundClients
from infra.tools.yaml_registry import load_tool_catalog
from tests.support import REPO

KEY = "dk_0123456789abcdef_" + "k" * 43
OBJECT: dict[str, Any] = {"type": "object", "properties": {"q": {"type": "string"}}}
COMPOSE = yaml.safe_load((REPO / "compose.yaml").read_text())


def call(with_key: bool = True) -> ToolCall:
    return ToolCall("req_1", "crm.get", "agent:sofia", {}, "microdao:7", credential=Credential(KEY) if with_key else None)


def target(url: str, forward: bool) -> HttpTarget:
    return HttpTarget("GET", url, origin_of(url), {}, None, {}, [], True, forward)


def refusal(tmp_path: Path, document: dict[str, Any]) -> str:
    path = tmp_path / "tools.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError) as raised:
        load_tool_catalog(path)
    return str(raised.value)


def crm_tool(**http: Any) -> dict[str, Any]:
    return {"id": "crm.get", "description": "d", "executor": "http", "input_schema": OBJECT,
            "http": {"service": "crm", "path": "/x", "forward_credential": True, **http}}


def test_only_a_forwarding_tool_s_request_carries_the_caller_s_key_and_it_is_redacted_from_answers() -> None:
    forwarded = build_request(target("http://127.0.0.1:1/x", forward=True), call())
    assert forwarded.headers["Authorization"] == f"Bearer {KEY}" and KEY.encode() in forwarded.secrets
    plain = build_request(target("http://127.0.0.1:1/x", forward=False), call())
    assert "Authorization" not in plain.headers and plain.secrets == ()
    assert KEY not in repr(call())


def test_a_forwarding_tool_called_without_a_credential_is_not_configured() -> None:
    with pytest.raises(ToolFailure) as raised:
        build_request(target("http://127.0.0.1:1/x", forward=True), call(with_key=False))
    assert raised.value.type == "not_configured"


async def test_the_executor_refuses_to_forward_a_key_to_a_non_internal_origin() -> None:
    clients = OutboundClients((80, 443), 3)
    try:
        executor = HttpToolExecutor({"crm.get": target("https://api.example.org/x", forward=True)}, clients)
        with pytest.raises(ToolFailure) as raised:
            await executor.execute(ToolDefinition("crm.get", "d", OBJECT, "http"), call(), attempts=1)
    finally:
        await clients.aclose()
    assert raised.value.type == "blocked" and KEY not in raised.value.message


@pytest.mark.parametrize("document", [
    {"tools": [{**crm_tool(), "http": {"url": "https://api.example.org/x", "forward_credential": True}}]},
    {"services": {"crm": {"base_url": "https://crm.example.org"}}, "tools": [crm_tool()]},
])
def test_a_tool_may_forward_the_key_only_to_an_internal_service(tmp_path: Path, document: dict[str, Any]) -> None:
    assert "tools[0].http.forward_credential" in refusal(tmp_path, document)


def test_a_forwarding_tool_may_not_set_an_authorization_header_of_its_own(tmp_path: Path) -> None:
    services = {"crm": {"base_url": "http://127.0.0.1:9", "internal": True}}
    tool = crm_tool(secret_headers=[{"name": "authorization", "env": "CRM_TOKEN"}])
    assert "Authorization" in refusal(tmp_path, {"services": services, "tools": [tool]})


def test_identity_arguments_must_be_arguments_and_the_conventional_names_cannot_be_repurposed(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"microdao_id": {"type": "string"}}}
    tool = {"id": "x.y", "description": "d", "executor": "http", "input_schema": schema,
            "http": {"url": "https://api.example.org/x"}}
    assert "identity_args.owner" in refusal(tmp_path, {"tools": [{**tool, "identity_args": {"owner": "agent"}}]})
    assert "identity_args.microdao_id" in refusal(
        tmp_path, {"tools": [{**tool, "identity_args": {"microdao_id": "agent"}}]})


def test_the_shipped_project_tools_forward_the_key_and_bind_the_microdao_argument() -> None:
    catalog = load_tool_catalog(REPO / "config" / "tools.yaml")
    for tool_id in ("projects.list", "tasks.list", "task.create"):
        assert catalog.http_targets[tool_id].forward_credential is True
        assert catalog.registry.get(tool_id).identity_args == {"microdao_id": "microdao"}  # type: ignore[union-attr]
    assert catalog.registry.get("time.now").identity_args == {}  # type: ignore[union-attr]


def compose_environment() -> dict[str, str]:
    return {**COMPOSE["x-app"]["environment"], **COMPOSE["services"]["toolcore"]["environment"]}


def stub_lookup(address: str) -> Any:
    def lookup(host: str, port: int, *_: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    return lookup


async def test_in_compose_toolcore_may_reach_projects_by_name_inside_the_private_networks_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environment = compose_environment()
    for name in ("DAARION_PROJECTS_URL", "DAARION_PROJECTS_NETWORKS"):
        monkeypatch.setenv(name, environment[name])
    catalog = load_tool_catalog(REPO / "config" / "tools.yaml")
    [projects] = catalog.internal_origins
    assert projects.origin == ("http", "projects", 7010)
    clients = OutboundClients((80, 443), 3, catalog.internal_origins)
    try:
        assert clients.is_internal(catalog.http_targets["projects.list"].origin)
        policy = clients.for_origin(projects.origin).policy
        resolver = clients.for_origin(projects.origin).resolver

        def answering(address: str) -> GuardedResolver:  # the session's own rules, a stub for DNS
            return GuardedResolver(policy, stub_lookup(address), resolver.confined_to)

        answered = await answering("172.18.0.5").resolve("projects", 7010)
        assert [answer["host"] for answer in answered] == ["172.18.0.5"]
        for elsewhere in ("169.254.169.254", "8.8.8.8", "127.0.0.1"):
            with pytest.raises(BlockedAddressError):
                await answering(elsewhere).resolve("projects", 7010)
    finally:
        await clients.aclose()


def test_a_projects_host_name_without_its_networks_fails_start_up_naming_the_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DAARION_PROJECTS_URL", "http://projects:7010")
    monkeypatch.delenv("DAARION_PROJECTS_NETWORKS", raising=False)
    with pytest.raises(ConfigError, match=r"services\.projects"):
        load_tool_catalog(REPO / "config" / "tools.yaml")
