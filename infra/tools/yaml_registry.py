"""The tool registry from config/tools.yaml, validated whole at start-up: every error names its key.

Beyond types (msgspec), this checks what only the whole file can tell: unique ids that round-trip
through OpenAI function names, input/output schemas against their metaschema, that each executor
has its spec, that path placeholders are required arguments, that URLs keep the origin fixed, that
identity arguments are arguments (and that `agent_id` / `microdao_id` are always identity arguments),
that only tools of internal services forward the caller's credential, that Python functions resolve
inside the allowed modules, and that grants name a subject.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from domain.kernel.tool_names import mapping_problem
from domain.tools.identity import CONVENTIONAL
from domain.tools.model import IdentityKind, ToolDefinition
from domain.tools.permissions import Grant
from infra.platform.config_files import ConfigError, load_config
from infra.platform.settings import config_path
from infra.tools.executors.http_request import CONTEXT_SOURCES, HttpTarget, origin_of, placeholders
from infra.tools.executors.python_executor import ToolFunction, resolve_function
from infra.tools.json_schema import schema_problem
from infra.tools.ssrf import InternalOrigin
from infra.tools.yaml_config import HttpSpec, ServiceConfig, ToolConfig, ToolsFile

DEFINITION_FIELDS = tuple(f for f in ToolDefinition.__struct_fields__)


class YamlToolRegistry:
    def __init__(self, tools: list[ToolDefinition]) -> None:
        self._tools = {tool.id: tool for tool in tools}

    def get(self, tool_id: str) -> ToolDefinition | None:
        return self._tools.get(tool_id)

    def all(self) -> list[ToolDefinition]:
        return list(self._tools.values())


class ToolCatalog(msgspec.Struct, frozen=True):
    """Everything the composition root builds Toolcore from."""

    registry: YamlToolRegistry
    grants: list[Grant]
    http_targets: dict[str, HttpTarget]
    python_functions: dict[str, ToolFunction]
    internal_origins: list[InternalOrigin]
    config: ToolsFile


def tools_config_path() -> Path:
    return config_path("tools.yaml", "DAARION_TOOLS_CONFIG")


def load_tool_catalog(path: Path | None = None) -> ToolCatalog:
    path = path or tools_config_path()
    raw = load_config(path, ToolsFile)
    try:
        return _catalog(raw)
    except ValueError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None


def _catalog(raw: ToolsFile) -> ToolCatalog:
    bases = {name: _base_url(name, service) for name, service in raw.services.items()}
    internal = [_internal(name, bases[name], service) for name, service in raw.services.items() if service.internal]
    internal_names = {name for name, service in raw.services.items() if service.internal}
    tools: list[ToolDefinition] = []
    http_targets: dict[str, HttpTarget] = {}
    functions: dict[str, ToolFunction] = {}
    for index, tool in enumerate(raw.tools):
        key = f"tools[{index}]"
        if problem := mapping_problem(tool.id):
            raise ValueError(f"{key}.id: {problem}")
        if any(existing.id == tool.id for existing in tools):
            raise ValueError(f"{key}.id: duplicate tool id {tool.id!r}")
        for field in ("input_schema", "output_schema"):
            schema = getattr(tool, field)
            if schema is not None and (problem := schema_problem(schema)):
                raise ValueError(f"{key}.{field} {problem}")
        if tool.executor == "http":
            http_targets[tool.id] = _http_target(f"{key}.http", tool, bases, internal_names)
        elif tool.python is None:
            raise ValueError(f"{key}.python: a python tool needs `python: {{function: package.module.name}}`")
        else:
            resolve = functools.partial(resolve_function, tool.python.function, raw.python.allowed_modules)
            functions[tool.id] = _guard(f"{key}.python.function", resolve)
        fields = {f: getattr(tool, f) for f in DEFINITION_FIELDS}
        fields["identity_args"] = _identity_args(key, tool)
        tools.append(ToolDefinition(**fields))
    grants = []
    for index, grant in enumerate(raw.permissions):
        if grant.agent is None and grant.microdao is None:
            raise ValueError(f"permissions[{index}]: a grant must name an agent, a microdao, or both")
        grants.append(Grant(tuple(grant.allow), grant.agent, grant.microdao))
    return ToolCatalog(YamlToolRegistry(tools), grants, http_targets, functions, internal, raw)


def _base_url(name: str, service: ServiceConfig) -> str:
    url = (os.environ.get(service.base_url_env) if service.base_url_env else None) or service.base_url
    _guard(f"services.{name}.base_url", lambda: origin_of(url))
    return url.rstrip("/")


def _internal(name: str, base_url: str, service: ServiceConfig) -> InternalOrigin:
    networks = service.networks
    from_env = os.environ.get(service.networks_env) if service.networks_env else None
    if from_env:  # e.g. compose's private networks, where the service's host name resolves
        networks = [net.strip() for net in from_env.split(",") if net.strip()]
    return _guard(f"services.{name}", lambda: InternalOrigin(origin_of(base_url), networks))


def _identity_args(key: str, tool: ToolConfig) -> dict[str, IdentityKind]:
    properties = tool.input_schema.get("properties", {})
    declared: dict[str, IdentityKind] = dict(tool.identity_args)
    for name, kind in CONVENTIONAL.items():
        if declared.get(name, kind) != kind:
            raise ValueError(f"{key}.identity_args.{name}: an argument named {name} always carries the "
                             f"caller's {kind} id")
        if name in properties:
            declared[name] = kind
    for name in declared:
        if name not in properties:
            raise ValueError(f"{key}.identity_args.{name}: not an argument of the tool (input_schema.properties)")
    return declared


def _http_target(key: str, tool: ToolConfig, bases: dict[str, str], internal: set[str]) -> HttpTarget:
    spec: HttpSpec | None = tool.http
    if spec is None:
        raise ValueError(f"{key}: an http tool needs an `http:` block")
    if (spec.service is None) == (spec.url is None):
        raise ValueError(f"{key}: give exactly one of `service` (with `path`) or `url`")
    if spec.service is not None and spec.service not in bases:
        raise ValueError(f"{key}.service: no service {spec.service!r} under `services`")
    if spec.forward_credential:
        if spec.service not in internal:
            raise ValueError(f"{key}.forward_credential: the caller's credential is forwarded only to a service "
                             f"marked `internal: true` under `services`")
        named = [*spec.headers, *(header.name for header in spec.secret_headers)]
        if any(name.lower() == "authorization" for name in named):
            raise ValueError(f"{key}.forward_credential: the tool also sets an Authorization header")
    template = spec.url if spec.url is not None else bases[spec.service or ""] + spec.path
    origin = _guard(f"{key}.url", lambda: origin_of(template))
    properties = tool.input_schema.get("properties", {})
    required = set(tool.input_schema.get("required", []))
    for name in placeholders(template):
        if name not in CONTEXT_SOURCES and name not in required:
            raise ValueError(f"{key}: path placeholder {{{name}}} must be a required argument or one of "
                             f"{', '.join(CONTEXT_SOURCES)}")
    for part in ("query", "body"):
        for out, source in (getattr(spec, part) or {}).items():
            if source not in CONTEXT_SOURCES and source not in properties:
                raise ValueError(f"{key}.{part}.{out}: {source!r} is neither an argument nor a ctx.* source")
    return HttpTarget(spec.method, template, origin, dict(spec.query), spec.body, dict(spec.headers),
                      list(spec.secret_headers), spec.forward_idempotency_key, spec.forward_credential)


def _guard(key: str, build: Callable[[], Any]) -> Any:
    try:
        return build()
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None
