"""What a service's OpenAPI document says beyond what Litestar reads off the handlers' Structs, taken from
the routes themselves, so it cannot drift from them:

- security: a route behind a guard needs `Authorization: Bearer <key>` (and may answer 401 and 403);
- errors: every route may answer 400, 414 and 503, a route that takes a body 413 and 415, and each its own
  statuses (`errors(...)`); all with the error body of the route (apps/common/error_bodies.py);
- strictness: a response Struct is encoded with exactly its fields, and a request Struct that forbids
  unknown fields refuses them, so both get `additionalProperties: false`;
- unions: a Python union accepts a value that matches any member, so Litestar's `oneOf` becomes `anyOf`
  (`int | float` would otherwise refuse every integer, which both members match);
- event streams: a route that may answer `text/event-stream` (`answer(..., events=...)`) documents each
  event: its name and its `data` (JSON of a Struct, or a fixed string such as `[DONE]`).
"""

from __future__ import annotations

import copy
import typing
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.routes import HTTPRoute

from apps.common.error_bodies import is_openai_path
from apps.common.structs import ErrorBody, OpenAIErrorBody

__all__ = ["ERROR_STATUSES", "EventStream", "finish"]

ERROR_STATUSES: dict[int, str] = {
    400: "The request is malformed: its body, parameters, headers or URL.",
    401: "No API key, or an unknown, expired or revoked one.",
    402: "A monthly budget (the agent's, its microDAO's or the key's) is spent.",
    403: "The key lacks the scope this route needs, or the request names another agent or microDAO than the "
         "key's own.",
    404: "Not found, or not visible to this key.",
    409: "Conflicts with the current state.",
    412: "`If-Match` names a version that is no longer the current one: read it again and retry.",
    413: "The body is larger than this route accepts.",
    414: "The URL is too long.",
    415: "The body is not JSON (send `Content-Type: application/json`).",
    422: "The arguments do not match the tool's input schema; `errors` lists each problem.",
    429: "Over a rate limit; retry after `Retry-After` seconds.",
    502: "An upstream (a model provider, a tool's service, another DAARION service) failed.",
    503: "A dependency (the database) is unavailable; retry after `Retry-After` seconds.",
    504: "An upstream timed out.",
}
EVERY_ROUTE, BODY_ROUTE, GUARDED_ROUTE = {400, 414, 503}, {413, 415}, {401, 403}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}
_HEADERS = {401: {"WWW-Authenticate": {"description": 'Bearer realm="daarion"', "schema": {"type": "string"}}},
            429: _RETRY_AFTER, 503: _RETRY_AFTER}
_REF = "#/components/schemas/{name}"
BEARER = {
    "type": "http", "scheme": "bearer",
    "description": "An API key (`dk_...`, from `daarion keys` or the admin API): `Authorization: Bearer <key>`.",
}

EventStream = dict[str, list[Any]]  # event name ("message" when unnamed) -> what its data may be


def finish(app: Litestar, generated: dict[str, Any]) -> dict[str, Any]:
    document = _any_of(copy.deepcopy(generated))
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearer"] = BEARER
    schemas = components.setdefault("schemas", {})
    _add_components(schemas, [ErrorBody, OpenAIErrorBody])
    paths = document.get("paths", {})
    handlers = []
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path_format in paths:
            for method, (handler, _) in route.route_handler_map.items():
                if (operation := paths[route.path_format].get(method.lower())) is not None:
                    _describe(operation, handler, schemas, route.path_format)
                    handlers.append(handler)
    _close(schemas, handlers)
    return document


def _close(schemas: dict[str, Any], handlers: list[HTTPRouteHandler]) -> None:
    """`additionalProperties: false` on what is sent with exactly its fields or refuses any other."""
    requests: set[type[msgspec.Struct]] = set()
    responses: set[type[msgspec.Struct]] = set()
    for handler in handlers:
        if (data := handler.parsed_fn_signature.parameters.get("data")) is not None:
            requests |= set(_structs(data.annotation))
        responses |= set(_structs(handler.parsed_fn_signature.return_type.annotation))
        for spec in (handler.responses or {}).values():
            for body in [spec.data_container, *_event_kinds(spec)]:
                responses |= set(_structs(body))
    for struct in requests | responses:
        closed = struct.__struct_config__.forbid_unknown_fields or struct not in requests
        schema = schemas.get(struct.__name__)
        if closed and isinstance(schema, dict) and schema.get("title", struct.__name__) == struct.__name__:
            schema["additionalProperties"] = False


def _describe(operation: dict[str, Any], handler: HTTPRouteHandler, schemas: dict[str, Any], path: str) -> None:
    if handler.summary is None:  # Litestar's default runs the handler's words together ("OpenaiChat")
        operation["summary"] = handler.handler_name.replace("_", " ").capitalize()
    own: Mapping[int, ResponseSpec] = handler.responses or {}
    statuses = EVERY_ROUTE | {status for status in own if status >= 400}
    if handler.resolve_guards():
        operation["security"] = [{"bearer": []}]
        statuses |= GUARDED_ROUTE
    if "requestBody" in operation:
        statuses |= BODY_ROUTE
    responses = operation.setdefault("responses", {})
    body = (OpenAIErrorBody if is_openai_path(path) else ErrorBody).__name__
    for status in sorted(statuses):
        responses[str(status)] = {"description": ERROR_STATUSES[status],
                                  "content": {"application/json": {"schema": {"$ref": _REF.format(name=body)}}}}
        if status in _HEADERS:
            responses[str(status)]["headers"] = _HEADERS[status]
    for status, spec in own.items():
        if (events := getattr(spec, "events", None)) is not None:
            responses[str(status)].setdefault("content", {})["text/event-stream"] = {
                "schema": _event_schema(events, schemas)}
    for response in responses.values():
        if not response.get("headers"):
            response.pop("headers", None)


def _any_of(node: Any) -> Any:
    if isinstance(node, dict):
        return {"anyOf" if key == "oneOf" else key: _any_of(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_any_of(value) for value in node]
    return node


def _event_kinds(spec: ResponseSpec) -> list[Any]:
    events: EventStream = getattr(spec, "events", None) or {}
    return [kind for kinds in events.values() for kind in kinds]


def _event_schema(events: EventStream, schemas: dict[str, Any]) -> dict[str, Any]:
    """One Server-Sent Event, as {"event", "data"} (what an OpenAPI 3.1 `schema` of an event stream
    describes); JSON data is described with contentMediaType/contentSchema."""
    _add_components(schemas, [kind for kinds in events.values() for kind in kinds if not isinstance(kind, str)])
    variants = []
    for name, kinds in events.items():
        data = [{"const": kind} if isinstance(kind, str) else
                {"type": "string", "contentMediaType": "application/json",
                 "contentSchema": {"$ref": _REF.format(name=kind.__name__)}} for kind in kinds]
        variants.append({"type": "object", "required": ["event", "data"], "properties": {
            "event": {"const": name}, "data": data[0] if len(data) == 1 else {"anyOf": data}}})
    return variants[0] if len(variants) == 1 else {"anyOf": variants}


def _add_components(schemas: dict[str, Any], kinds: list[Any]) -> None:
    if kinds:
        for name, schema in msgspec.json.schema_components(kinds, ref_template=_REF)[1].items():
            schemas.setdefault(name, schema)


def _structs(annotation: Any, seen: set[int] | None = None) -> Iterator[type[msgspec.Struct]]:
    """The Structs an annotation holds, at any depth (through lists, unions, Annotated, Response[...])."""
    seen = set() if seen is None else seen
    if id(annotation) in seen:
        return
    seen.add(id(annotation))
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        yield annotation
        for field in msgspec.structs.fields(annotation):
            yield from _structs(field.type, seen)
    elif typing.get_origin(annotation) is not None:
        for arg in typing.get_args(annotation):
            yield from _structs(arg, seen)
