"""Turning a tool call into one HTTP request: URL template, query/body mapping, headers.

The origin (scheme, host, port) is fixed by configuration and checked at load; arguments only ever
fill path segments (percent-escaped, so `../admin` stays one segment), query values and body fields.
Secret header values come from environment variables at call time, and a forwarded caller credential
from the call itself; both exist only in the outgoing request: never in arguments, events, logs or results.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import msgspec

from domain.kernel.tool_calls import ToolErrorType
from domain.tools.model import ToolCall, ToolFailure
from infra.tools.yaml_config import SecretHeader

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
CONTEXT_SOURCES = ("ctx.agent_id", "ctx.microdao_id", "ctx.request_id")


class HttpTarget(msgspec.Struct, frozen=True):
    method: str
    url_template: str
    origin: tuple[str, str, int]
    query: dict[str, str]
    body: dict[str, str] | None
    headers: dict[str, str]
    secret_headers: list[SecretHeader]
    forward_idempotency_key: bool
    forward_credential: bool = False


class OutgoingRequest(msgspec.Struct, frozen=True):
    method: str
    url: str
    params: list[tuple[str, str | int | float | bool | None]]
    json: dict[str, Any] | None
    headers: dict[str, str]
    secrets: tuple[bytes, ...]


def origin_of(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL whose authority holds no placeholder; ValueError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"URL {url!r} must be http or https")
    if "{" in parts.netloc or not parts.hostname:
        raise ValueError(f"URL {url!r} must name a fixed host (placeholders may only fill the path)")
    if "{" in parts.query or "{" in parts.fragment:
        raise ValueError(f"URL {url!r}: map arguments to the query with `query`, not placeholders")
    return parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def placeholders(url_template: str) -> list[str]:
    return PLACEHOLDER.findall(url_template)


def build_request(target: HttpTarget, call: ToolCall, env: Mapping[str, str] = os.environ) -> OutgoingRequest:
    url = PLACEHOLDER.sub(lambda m: _segment(_source(m.group(1), call)), target.url_template)
    # httpx replaces a URL's query when given params, so a template's fixed query travels as params too.
    url, _, fixed_query = url.partition("?")
    params: list[tuple[str, str | int | float | bool | None]] = list(parse_qsl(fixed_query, keep_blank_values=True))
    for name, source in target.query.items():
        value = _source(source, call)
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                params.append((name, _text(item)))
    body = None
    if target.body is not None:
        body = {name: value for name, source in target.body.items() if (value := _source(source, call)) is not None}
    headers = dict(target.headers)
    secrets: list[bytes] = []
    for header in target.secret_headers:
        value = env.get(header.env)
        if not value:
            if header.required:
                raise ToolFailure(ToolErrorType.NOT_CONFIGURED, f"the tool needs environment variable {header.env}, which is unset")
            continue
        headers[header.name] = header.prefix + value
        secrets.append(value.encode())
    if target.forward_credential:
        if call.credential is None:
            raise ToolFailure(ToolErrorType.NOT_CONFIGURED, "this tool acts with the caller's credential, and "
                                                            "the call came without one")
        key = call.credential.reveal()
        headers["Authorization"] = f"Bearer {key}"
        secrets.append(key.encode())
    if call.idempotency_key is not None and target.forward_idempotency_key:
        # Scoped by agent: two agents that happen to pick the same key must not share one upstream effect.
        headers["Idempotency-Key"] = f"{call.agent_id}/{call.idempotency_key}"
    return OutgoingRequest(target.method, url, params, body, headers, tuple(secrets))


def _source(source: str, call: ToolCall) -> Any:
    if source == "ctx.agent_id":
        return call.agent_id
    if source == "ctx.microdao_id":
        return call.microdao_id
    if source == "ctx.request_id":
        return call.request_id
    return call.args.get(source)


def _segment(value: Any) -> str:
    if value is None:
        raise ToolFailure(ToolErrorType.MISSING_CONTEXT, "this tool acts within a microDAO: call it with microdao_id")
    text = quote(_text(value), safe="")
    # A segment that is exactly `.` or `..` would be resolved away by the URL parser; escape its dots.
    return text.replace(".", "%2E") if text in (".", "..") else text


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return msgspec.json.encode(value).decode()
    return str(value)
