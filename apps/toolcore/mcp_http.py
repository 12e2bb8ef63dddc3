"""`/mcp` over streamable HTTP behind a bearer key, as the MCP authorization spec (2025-06-18) has it.

- No key, or an unknown, revoked or expired one: 401 with `WWW-Authenticate: Bearer realm="daarion",
  resource_metadata="<base>/.well-known/oauth-protected-resource"` (and `error="invalid_token"` when a
  key was presented), so a client learns where the resource describes itself.
- A key without the scope the JSON-RPC method needs (tools/list: tools:list; tools/call: tools:call;
  anything else, initialize included: either): 403 with `error="insufficient_scope"` and the scope.
- `X-Agent-Id` / `X-Microdao-Id` naming another agent or microDAO: 403 identity_mismatch (the headers
  are not trusted, only compared); an operator key: 403 agent_key_required.
- The protected-resource metadata (RFC 9728) is served open at `/.well-known/oauth-protected-resource`
  (and at `.../mcp`, the path RFC 9728 derives for the `/mcp` resource). Keys come from `daarion keys`,
  not from an OAuth authorization server, so it names none.

The body is read here (at most 4 MiB) to learn the method, then replayed to the SDK's session manager.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request, asgi, get
from litestar.datastructures import Headers
from litestar.types import HTTPRequestEvent, Receive, ReceiveMessage, Scope, Send
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from apps.common.auth import authenticate, bearer_of
from apps.common.container import container_in
from apps.common.edge import MalformedJson, decode_body
from apps.common.errors import error_headers, status_of
from apps.common.structs import ErrorBody, ErrorDetail
from apps.toolcore.container import ToolcoreContainer
from apps.toolcore.mcp_server import MCP_CALLER, McpCaller
from domain.identity.principal import Principal
from domain.identity.scopes import Scope as KeyScope
from domain.kernel.credential import Credential
from domain.kernel.errors import (
    DaarionError,
    InsufficientScope,
    InvalidRequest,
    Unauthenticated,
)
from domain.kernel.ids import SUBJECT_ID

MCP_PATH = "/mcp"
RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource"
MCP_SCOPES = (KeyScope.TOOLS_LIST, KeyScope.TOOLS_CALL)
SCOPE_OF_METHOD = {"tools/list": KeyScope.TOOLS_LIST, "tools/call": KeyScope.TOOLS_CALL}
MAX_BODY_BYTES = 4 * 1024 * 1024
_HOST = re.compile(r"^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$")


@dataclass(frozen=True)
class ToolcoreHttpContainer(ToolcoreContainer):
    """Toolcore with its MCP endpoint: the streamable-HTTP sessions run for the app's lifetime."""

    mcp_sessions: StreamableHTTPSessionManager


@get([RESOURCE_METADATA_PATH, RESOURCE_METADATA_PATH + MCP_PATH], sync_to_thread=False)
def protected_resource_metadata(request: Request[Any, Any, Any]) -> dict[str, Any]:
    base = base_url(request.scope)
    return {"resource": base + MCP_PATH, "resource_name": "DAARION Toolcore (MCP)",
            "scopes_supported": [str(s) for s in MCP_SCOPES], "bearer_methods_supported": ["header"]}


@asgi(MCP_PATH, is_mount=True, copy_scope=True)
async def mcp_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    headers = Headers.from_scope(scope)
    presented = bearer_of(headers.get("authorization", ""))
    try:
        principal = await authenticate(scope, presented)
        body, receive = await _buffered(scope, receive)
        _require_scopes(principal, body)
        principal.tenant(headers.get("x-agent-id"), headers.get("x-microdao-id"))
    except DaarionError as exc:
        await _refuse(scope, send, exc, presented is not None)
        return
    assert presented is not None  # authenticate() refuses a request without a key
    scope[MCP_CALLER] = McpCaller(principal, Credential(presented))  # type: ignore[literal-required]
    sessions = container_in(scope, ToolcoreHttpContainer).mcp_sessions
    await sessions.handle_request(scope, receive, send)  # type: ignore[arg-type]


def base_url(scope: Scope) -> str:
    """Where the client reached us (its Host header, when well-formed), for absolute metadata URLs."""
    host = Headers.from_scope(scope).get("host", "")
    if not _HOST.match(host):
        server = scope.get("server") or ("127.0.0.1", 7009)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


class _ScopeMissing(InsufficientScope):
    def __init__(self, method: str, scopes: tuple[KeyScope, ...]) -> None:
        self.scopes = " ".join(str(s) for s in scopes)
        wanted = " or ".join(f"'{s}'" for s in scopes)
        super().__init__(f"{method or 'MCP'} needs the {wanted} scope, which this key lacks")


def _require_scopes(principal: Principal, body: bytes) -> None:
    for method in _methods(body):
        needed = SCOPE_OF_METHOD.get(method)
        alternatives = MCP_SCOPES if needed is None else (needed,)
        if not any(principal.may(scope) for scope in alternatives):
            raise _ScopeMissing(method, alternatives)


def _methods(body: bytes) -> list[str]:
    """The JSON-RPC methods in a POST body (a batch has several); the SDK answers malformed bodies itself."""
    if not body:
        return [""]
    try:
        decoded = decode_body(body)  # too deep, not UTF-8 or holding NUL: a 400 like every other route's
    except MalformedJson:
        return [""]
    messages = decoded if isinstance(decoded, list) else [decoded]
    return [str(m.get("method", "")) if isinstance(m, dict) else "" for m in messages] or [""]


async def _buffered(scope: Scope, receive: Receive) -> tuple[bytes, Receive]:
    if scope.get("method") != "POST":
        return b"", receive
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise InvalidRequest(f"an MCP message over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
        more = message.get("more_body", False)
    body, replayed = b"".join(chunks), False

    async def replay() -> ReceiveMessage:
        nonlocal replayed
        if not replayed:
            replayed = True
            return HTTPRequestEvent(type="http.request", body=body, more_body=False)
        return await receive()

    return body, replay


async def _refuse(scope: Scope, send: Send, exc: DaarionError, presented: bool) -> None:
    headers = {"content-type": "application/json", **error_headers(exc)}
    metadata = f'resource_metadata="{base_url(scope)}{RESOURCE_METADATA_PATH}"'
    if isinstance(exc, Unauthenticated):
        error = ', error="invalid_token"' if presented else ""
        headers["www-authenticate"] = f'Bearer realm="daarion"{error}, {metadata}'
    elif isinstance(exc, _ScopeMissing):
        headers["www-authenticate"] = (f'Bearer realm="daarion", error="insufficient_scope", scope="{exc.scopes}", '
                                       f'{metadata}')
    incoming = Headers.from_scope(scope).get("x-request-id", "")
    request_id = incoming if SUBJECT_ID.match(incoming) else f"req_{uuid.uuid4().hex}"
    headers["x-request-id"] = request_id
    body = msgspec.json.encode(ErrorBody(ErrorDetail(exc.type, exc.message, request_id)))
    await _send(send, status_of(exc), headers, body)


async def _send(send: Send, status: int, headers: Mapping[str, str], body: bytes) -> None:
    raw = [(k.encode(), v.encode()) for k, v in {**headers, "content-length": str(len(body))}.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})
