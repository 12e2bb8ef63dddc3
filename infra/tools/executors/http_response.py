"""Reading an upstream answer into a tool result: status mapping, size cap, secret redaction, decoding."""

from __future__ import annotations

from typing import Any

import aiohttp
import msgspec

from domain.kernel.tool_calls import ToolErrorType
from domain.tools.model import ToolFailure

REDACTED = b"[redacted]"


class Retryable(ToolFailure):
    """A failure that another attempt might not meet: connect error, timeout, 5xx."""


async def read_result(response: aiohttp.ClientResponse, limit: int, secrets: tuple[bytes, ...]) -> Any:
    status = response.status
    if status >= 500:
        raise Retryable(ToolErrorType.UPSTREAM_ERROR, f"upstream answered {status}", status)
    body = await _read_capped(response, limit)
    for secret in secrets:
        body = body.replace(secret, REDACTED)  # an upstream that echoes its credentials must not leak them
    if status >= 400:
        raise ToolFailure(ToolErrorType.UPSTREAM_REJECTED, f"upstream answered {status}: {_snippet(body)}", status)
    if status >= 300:
        raise ToolFailure(ToolErrorType.UPSTREAM_ERROR, f"upstream answered {status} without a usable redirect", status)
    return _decode(body, _content_type(response))


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    declared = response.content_length
    if declared is not None and declared > limit:
        raise ToolFailure(ToolErrorType.RESULT_TOO_LARGE, f"upstream declared {declared} bytes, over the {limit}-byte cap")
    chunks: list[bytes] = []
    size = 0
    # Raw bytes (decompression is off and we ask for identity): nothing inflates past what was counted.
    async for chunk in response.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise ToolFailure(ToolErrorType.RESULT_TOO_LARGE, f"upstream sent more than the {limit}-byte cap")
        chunks.append(chunk)
    return b"".join(chunks)


def _content_type(response: aiohttp.ClientResponse) -> str:
    return response.headers.get("Content-Type", "").lower()


def _decode(body: bytes, content_type: str) -> Any:
    if not body:
        return None
    if "json" in content_type:
        try:
            return msgspec.json.decode(body)
        except msgspec.DecodeError:
            raise ToolFailure(ToolErrorType.INVALID_RESULT, "upstream declared JSON but sent something else") from None
    return body.decode("utf-8", errors="replace")


def _snippet(body: bytes, limit: int = 300) -> str:
    text = body.decode("utf-8", errors="replace").strip()
    try:
        detail = msgspec.json.decode(body)
        if isinstance(detail, dict) and isinstance(detail.get("error"), dict):
            text = str(detail["error"].get("message", text))
    except msgspec.DecodeError:
        pass
    return text[:limit]
