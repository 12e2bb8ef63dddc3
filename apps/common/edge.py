"""The edge every service shares: what a request must be before routing and before a handler sees its body.

Each refusal is the documented error body (apps/common/error_bodies.py), never a 500:

    URL over MAX_URL_BYTES                         414 uri_too_long       (before routing)
    NUL (%00) in the path or query                 400 invalid_request    (before routing)
    body over the route's limit                    413 payload_too_large  (from Content-Length, else while read)
    a JSON route given another content type        415 unsupported_media_type
    body not UTF-8, not JSON, nested deeper than
    MAX_DEPTH, or holding a NUL (\\u0000)           400 invalid_request

A body is decoded once (msgspec, in C); the depth check walks the decoded value's containers level by level,
and the NUL check searches the raw bytes (only those with a backslash): microseconds per typical body on top of
Litestar's own handling (bench/edge_cost.py). PostgreSQL takes no NUL in text or jsonb, so NUL stops here.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.connection import ASGIConnection
from litestar.exceptions import ClientException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.response.base import ASGIResponse
from litestar.types import Empty, LifeSpanReceive, LifeSpanScope, LifeSpanSend, Receive, Scope, Send

from apps.common.error_bodies import error_body
from apps.common.requests import request_id_of
from apps.common.structs import ErrorBody, ErrorDetail
from domain.kernel.errors import InvalidRequest

MIB = 1024 * 1024
MAX_URL_BYTES = 8 * 1024
MAX_DEPTH = 64
DEFAULT_BODY_BYTES = 1 * MIB
# For routes whose bodies are legitimately larger (they say so with `request_max_body_size=LARGE_BODY_BYTES`):
# a 2 MiB knowledge document is up to ~6 MiB of JSON when a client escapes non-ASCII text (Python's json.dumps
# does), and a long chat with tool schemas runs to megabytes.
LARGE_BODY_BYTES = 8 * MIB
_CONTAINERS = frozenset((dict, list))
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")  # \u0000 whose backslash is not itself escaped

__all__ = ["DEFAULT_BODY_BYTES", "LARGE_BODY_BYTES", "MAX_DEPTH", "MAX_URL_BYTES", "EdgeApp", "EdgeRequest",
           "MalformedJson", "decode_body", "error_bytes", "is_json_media_type"]


class MalformedJson(InvalidRequest):
    """Not JSON at all: a protocol with its own answer for that (MCP's JSON-RPC parse error) catches this one."""


class EdgeRequest(Request[Any, Any, Any]):
    """Litestar calls `json()` only for routes that take a JSON body, after the route's guards: so the key is
    checked before the body is read, and only JSON routes answer 415."""

    async def json(self) -> Any:
        if self._json is not Empty:
            return self._json
        media_type = self.headers.get("content-type")
        if media_type is not None and not is_json_media_type(media_type):
            raise ClientException(status_code=415,
                                  detail=f"this route takes application/json, not '{media_type[:100]}'")
        self._json = decode_body(await self.body())
        return self._json

    async def body(self) -> bytes:
        try:
            return await super().body()
        except RequestEntityTooLarge:
            limit = self.route_handler.resolve_request_max_body_size()
            raise ClientException(status_code=413, detail=f"the body is over this route's limit of {limit} bytes") \
                from None


def decode_body(body: bytes) -> Any:
    try:
        value = msgspec.json.decode(body or b"null")
    except UnicodeDecodeError:
        raise InvalidRequest("the body is not valid UTF-8") from None
    except RecursionError:
        raise InvalidRequest(f"the body nests arrays and objects deeper than {MAX_DEPTH} levels") from None
    except msgspec.DecodeError as exc:
        raise MalformedJson(f"the body is not valid JSON: {exc}") from None
    if _deeper_than(value, MAX_DEPTH):
        raise InvalidRequest(f"the body nests arrays and objects deeper than {MAX_DEPTH} levels")
    # A single-byte search is memchr-fast; only a body with escapes can hold an escaped NUL.
    if b"\\" in body and b"\\u0000" in body and _ESCAPED_NUL.search(body):
        raise InvalidRequest("the body holds a NUL character (\\u0000), which no field accepts")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Level by level, one comprehension per level: its cost is one step per value, strings included, and the
    value was just decoded from a bounded body."""
    level = [value] if type(value) in _CONTAINERS else []
    for _ in range(limit):
        level = [child for node in level for child in (node.values() if type(node) is dict else node)
                 if type(child) in _CONTAINERS]
        if not level:
            return False
    return True


def is_json_media_type(media_type: str) -> bool:
    if media_type == "application/json":
        return True
    kind, _, params = media_type.partition(";")
    kind = kind.strip().lower()
    if kind != "application/json" and not (kind.startswith("application/") and kind.endswith("+json")):
        return False
    charset = params.strip().lower().removeprefix("charset=").strip('"')
    return not params.strip() or charset in ("utf-8", "utf8")


class EdgeApp(Litestar):
    """Refuses a malformed URL before routing: the router caches routes by path, and a handler would take a NUL
    in a path parameter to PostgreSQL."""

    async def __call__(
        self, scope: Scope | LifeSpanScope, receive: Receive | LifeSpanReceive, send: Send | LifeSpanSend,
    ) -> None:
        if scope["type"] == "http" and (refusal := _url_refusal(scope)) is not None:
            status, type_, message = refusal
            request_id = request_id_of(ASGIConnection(scope))
            response = ASGIResponse(body=error_body(scope["path"], status, type_, message, request_id), status_code=status,
                                    media_type="application/json", headers={"x-request-id": request_id})
            await response(scope, receive, send)  # type: ignore[arg-type]
            return
        await super().__call__(scope, receive, send)


def _url_refusal(scope: Scope) -> tuple[int, str, str] | None:
    query: bytes = scope["query_string"]
    raw_path = scope.get("raw_path")  # optional in ASGI; the decoded path is as long or shorter
    if (len(scope["path"]) if raw_path is None else len(raw_path)) + len(query) > MAX_URL_BYTES:
        return 414, "uri_too_long", f"the URL is over {MAX_URL_BYTES} bytes"
    if "\x00" in scope["path"] or b"%00" in query:
        return 400, "invalid_request", "the path or query holds a NUL character (%00), which no parameter accepts"
    return None


def error_bytes(type_: str, message: str, request_id: str) -> bytes:
    return msgspec.json.encode(ErrorBody(ErrorDetail(type_, message, request_id)))
