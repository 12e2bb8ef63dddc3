"""The uvicorn options every service runs with (`daarion serve`, and tests that serve an app as it does).

uvicorn's HTTP parser answers a request it cannot parse itself, before any app runs, with a plain-text 400.
httptools (uvicorn's parser when installed: ~3x cheaper than h11) cannot take a URL over 64 KiB at all, so a
100 KB URL never reaches the app's own 414. This protocol answers those requests with the documented error
body too: 414 uri_too_long for a URL over the edge's limit, 400 invalid_request for anything else.
"""

from __future__ import annotations

import uuid
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from apps.common.edge import MAX_URL_BYTES, error_bytes

__all__ = ["SERVER_OPTIONS", "JsonErrorProtocol"]


class JsonErrorProtocol(HttpToolsProtocol):
    def send_400_response(self, msg: str) -> None:
        request_id = f"req_{uuid.uuid4().hex}"
        if len(getattr(self, "url", b"")) > MAX_URL_BYTES:
            status, body = 414, error_bytes("uri_too_long", f"the URL is over {MAX_URL_BYTES} bytes", request_id)
        else:
            status, body = 400, error_bytes("invalid_request", "the request line or headers cannot be parsed "
                                            "(a NUL or other invalid byte, or a malformed field)", request_id)
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [b"content-type: application/json\r\n", b"content-length: %d\r\n" % len(body),
                 b"x-request-id: " + request_id.encode() + b"\r\n", b"connection: close\r\n\r\n"]
        self.transport.write(b"".join(head) + body)
        self.transport.close()


SERVER_OPTIONS: dict[str, Any] = {"http": JsonErrorProtocol}
