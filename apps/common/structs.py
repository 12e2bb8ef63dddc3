"""The shared strict base for request/response bodies: unknown fields are a 400, not silently dropped."""

from __future__ import annotations

import msgspec


class StrictStruct(msgspec.Struct, forbid_unknown_fields=True):
    pass


class ErrorDetail(msgspec.Struct, omit_defaults=True):
    type: str
    message: str
    request_id: str
    errors: list[dict[str, str]] | None = None


class ErrorBody(msgspec.Struct):
    error: ErrorDetail


class OpenAIErrorDetail(msgspec.Struct):
    """The error of the OpenAI-compatible routes (/v1): OpenAI's fields, `param` and `code` always present
    (null when none applies); `code` is the stable type the other routes call `type`."""

    message: str
    type: str
    param: str | None
    code: str
    request_id: str


class OpenAIErrorBody(msgspec.Struct):
    error: OpenAIErrorDetail
