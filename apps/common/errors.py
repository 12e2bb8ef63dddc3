"""One table maps domain errors to HTTP statuses; every failure gets the error body of its route (error_bodies.py)."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException

from apps.common.error_bodies import error_body
from apps.common.requests import request_id_of
from domain.kernel import errors
from infra.platform.outages import RETRY_AFTER_S, is_database_outage

log = logging.getLogger("daarion.errors")

STATUS_OF: dict[type[errors.DaarionError], int] = {
    errors.InvalidRequest: 400,
    errors.ArgumentsInvalid: 422,
    errors.Unauthenticated: 401,
    errors.BudgetExhausted: 402,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.UnknownModel: 404,
    errors.Conflict: 409,
    errors.PreconditionFailed: 412,
    errors.RateLimited: 429,
    errors.UpstreamFailed: 502,
    errors.ServiceUnavailable: 503,
    errors.UpstreamTimeout: 504,
}

_HTTP_TYPES = {400: "invalid_request", 401: "unauthenticated", 403: "permission_denied", 404: "not_found",
               405: "method_not_allowed", 413: "payload_too_large", 414: "uri_too_long",
               415: "unsupported_media_type"}


def status_of(exc: errors.DaarionError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 500


def error_response(
    request: Request[Any, Any, Any], status: int, type_: str, message: str,
    errors_list: list[dict[str, str]] | None = None, headers: dict[str, str] | None = None, param: str | None = None,
) -> Response[bytes]:
    request_id = request_id_of(request)
    return Response(
        error_body(request.url.path, status, type_, message, request_id, errors_list, param), status_code=status,
        media_type="application/json", headers={"x-request-id": request_id, **(headers or {})},
    )


def error_headers(exc: errors.DaarionError) -> dict[str, str]:
    """What a client needs besides the body: when to retry (429, 503), how to authenticate (401)."""
    if isinstance(exc, errors.RateLimited):
        return {"retry-after": str(exc.retry_after_s)}
    if isinstance(exc, errors.ServiceUnavailable):
        return {"retry-after": str(RETRY_AFTER_S)}
    if isinstance(exc, errors.Unauthenticated):
        return {"www-authenticate": 'Bearer realm="daarion"'}
    return {}


def on_domain_error(request: Request[Any, Any, Any], exc: errors.DaarionError) -> Response[bytes]:
    errs = exc.errors if isinstance(exc, errors.ArgumentsInvalid) else None
    return error_response(request, status_of(exc), exc.type, exc.message, errs, error_headers(exc), exc.param)


def on_validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[bytes]:
    details = exc.extra if isinstance(exc.extra, list) else []
    messages = [_describe(d) for d in details]
    text = "; ".join(messages) or exc.detail
    return error_response(request, 400, "invalid_request", f"malformed request: {text}", param=_param_of(details))


def _describe(detail: Any) -> str:
    if not isinstance(detail, dict):
        return str(detail)
    message = str(detail.get("message", detail))
    key = detail.get("key")
    return f"{message} (at {key})" if key and str(key) not in message else message


_FIELD = re.compile(r"field `([^`]+)`")


def _param_of(details: list[Any]) -> str | None:
    """The field at fault: where the first problem is ("messages[0].role"), or, for a problem of the body as a
    whole (its key is "data"), the field its message names ("unknown field `x`", "missing required field `x`")."""
    for detail in details[:1]:
        if not isinstance(detail, dict):
            return None
        key = str(detail.get("key") or "")
        if key and key != "data":
            return key
        found = _FIELD.search(str(detail.get("message", "")))
        return found.group(1) if found else None
    return None


def on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    return error_response(request, status, _HTTP_TYPES.get(status, "http_error"), exc.detail)


def on_unauthorized(request: Request[Any, Any, Any], exc: NotAuthorizedException) -> Response[bytes]:
    return error_response(request, 401, "unauthenticated", exc.detail)


def on_database_unreachable(request: Request[Any, Any, Any], exc: BaseException) -> Response[bytes]:
    log.error("database unavailable on %s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
    return error_response(request, 503, "unavailable", "the database is unavailable; retry shortly",
                          headers={"retry-after": str(RETRY_AFTER_S)})


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    # Every way the drivers say "unreachable" (infra/platform/outages.py) is a 503 on every route, not a 500.
    if is_database_outage(exc):
        return on_database_unreachable(request, exc)
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path, exc_info=exc)
    return error_response(request, 500, "internal_error", "internal error; see the service log by request id")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    errors.DaarionError: on_domain_error,
    ValidationException: on_validation_error,
    NotAuthorizedException: on_unauthorized,
    HTTPException: on_http_error,
    Exception: on_unexpected,
}
