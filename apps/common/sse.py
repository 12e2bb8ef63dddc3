"""Server-Sent Events carrying the stable error body, for failures after a stream has started."""

from __future__ import annotations

import msgspec

from apps.common.structs import ErrorBody, ErrorDetail


def sse_error(type_: str, message: str, request_id: str, event: str | None = None) -> bytes:
    """OpenAI-style streams carry errors as a plain data event; named streams add `event: <name>`."""
    prefix = f"event: {event}\n".encode() if event else b""
    return prefix + b"data: " + msgspec.json.encode(ErrorBody(ErrorDetail(type_, message, request_id))) + b"\n\n"
