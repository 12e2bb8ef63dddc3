"""The shape of config/tools.yaml, parsed once into Structs; msgspec names the bad key on a type error.

    services:    name -> base URL the HTTP tools call; `internal: true` puts that one origin (scheme,
                 host, port) on the SSRF allowlist, so loopback/private addresses are reachable there only
                 (a host *name* also needs the `networks` it may resolve into, or `networks_env`)
    outbound:    the SSRF policy for every other origin (ports, redirect hops)
    python:      which modules Python-executor functions may come from
    permissions: grants (agent and/or microdao -> tool-id globs); deny by default
    tools:       the registry
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta


class _Strict(msgspec.Struct, forbid_unknown_fields=True):
    pass


class SecretHeader(_Strict):
    """A header whose value is read from an environment variable at call time, never from arguments."""

    name: str
    env: str
    prefix: str = ""
    required: bool = True  # false: the header is left out when the variable is unset


class HttpSpec(_Strict):
    """`{name}` in the path takes an argument (escaped as one path segment); `{ctx.agent_id}`,
    `{ctx.microdao_id}` and `{ctx.request_id}` take the caller's identity, which arguments cannot forge.
    `query` and `body` map outgoing names to the same sources; absent optional arguments are left out."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    service: str | None = None
    url: str | None = None
    path: str = ""
    query: dict[str, str] = {}
    body: dict[str, str] | None = None
    headers: dict[str, str] = {}
    secret_headers: list[SecretHeader] = []
    forward_idempotency_key: bool = True
    # True: the caller's own API key travels as `Authorization: Bearer`, so the service decides by it who
    # is calling. Only for an internal service (checked at load and again per call); never to anyone else.
    forward_credential: bool = False


class PythonSpec(_Strict):
    function: str


class ToolConfig(_Strict):
    id: str
    description: str
    input_schema: dict[str, Any]
    executor: Literal["http", "python"]
    output_schema: dict[str, Any] | None = None
    timeout_s: Annotated[float, Meta(gt=0, le=300)] = 10.0
    retries: Annotated[int, Meta(ge=0, le=5)] = 0
    idempotent: bool = False
    read_only: bool = False
    destructive: bool = False
    max_result_bytes: Annotated[int, Meta(gt=0, le=10 * 1024 * 1024)] = 65536
    safe_to_log: bool = False
    # argument -> "agent" | "microdao": arguments that name the caller (domain/tools/identity.py); those
    # named agent_id / microdao_id always do.
    identity_args: dict[str, Literal["agent", "microdao"]] = {}
    http: HttpSpec | None = None
    python: PythonSpec | None = None


class ServiceConfig(_Strict):
    base_url: str
    base_url_env: str | None = None  # an environment variable that overrides base_url when set
    internal: bool = False
    networks: list[str] = []  # where an internal service's host name may resolve (literal hosts: itself)
    networks_env: str | None = None  # an environment variable (comma-separated CIDRs) that overrides networks


class GrantConfig(_Strict):
    allow: list[str]
    agent: str | None = None
    microdao: str | None = None


class OutboundConfig(_Strict):
    allowed_ports: list[Annotated[int, Meta(ge=1, le=65535)]] = msgspec.field(default_factory=lambda: [80, 443])
    max_redirects: Annotated[int, Meta(ge=0, le=10)] = 3


class PythonConfig(_Strict):
    allowed_modules: list[str] = msgspec.field(default_factory=lambda: ["infra.tools.python_functions"])
    max_workers: Annotated[int, Meta(ge=1, le=64)] = 4


class ToolsFile(_Strict):
    tools: list[ToolConfig]
    permissions: list[GrantConfig] = []
    services: dict[str, ServiceConfig] = {}
    outbound: OutboundConfig = msgspec.field(default_factory=OutboundConfig)
    python: PythonConfig = msgspec.field(default_factory=PythonConfig)
