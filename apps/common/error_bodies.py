"""The two shapes of an error body: the stable one every route answers, and OpenAI's on its compatible routes.

    stable (/internal, /admin, ...)  {"error": {"type", "message", "request_id", "errors"?}}
    OpenAI (/v1/...)                 {"error": {"message", "type", "param", "code", "request_id"}}

On /v1 `type` is OpenAI's category (what its SDKs expose as `e.type`) and `code` the stable type, so a client
of either kind branches on what it knows; `param` names the request field at fault, when one is.
"""

from __future__ import annotations

import msgspec

from apps.common.structs import ErrorBody, ErrorDetail, OpenAIErrorBody, OpenAIErrorDetail

OPENAI_PREFIX = "/v1/"
_OPENAI_TYPES = {401: "authentication_error", 402: "insufficient_quota", 403: "permission_error",
                 429: "rate_limit_error"}


def is_openai_path(path: str) -> bool:
    return path.startswith(OPENAI_PREFIX)


def openai_type(status: int) -> str:
    """OpenAI's category of a status: its API answers a bad request, an unknown model or a too large body
    alike as `invalid_request_error`, and its own failures as `server_error`."""
    return _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")


def error_body(
    path: str, status: int, type_: str, message: str, request_id: str,
    errors: list[dict[str, str]] | None = None, param: str | None = None,
) -> bytes:
    if is_openai_path(path):
        return msgspec.json.encode(OpenAIErrorBody(OpenAIErrorDetail(message, openai_type(status), param, type_,
                                                                     request_id)))
    return msgspec.json.encode(ErrorBody(ErrorDetail(type_, message, request_id, errors)))
