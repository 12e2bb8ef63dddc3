"""Server-Sent Events carrying the route's error body, for failures after a stream has started."""

from __future__ import annotations

from apps.common.error_bodies import error_body


def sse_error(type_: str, message: str, request_id: str, event: str | None = None, path: str = "",
              status: int = 502) -> bytes:
    """OpenAI-style streams carry errors as a plain data event; named streams add `event: <name>`. `path` picks
    the body's shape, `status` its OpenAI category (the HTTP status went out with the first event)."""
    prefix = f"event: {event}\n".encode() if event else b""
    return prefix + b"data: " + error_body(path, status, type_, message, request_id) + b"\n\n"
