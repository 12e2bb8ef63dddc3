"""Request ids: taken from a well-formed incoming x-request-id (so one id spans a whole agent turn), else new."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.connection import ASGIConnection

from domain.kernel.ids import SUBJECT_ID


def request_id_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    state = connection.scope.setdefault("state", {})
    request_id = state.get("request_id")
    if request_id is None:
        incoming = connection.headers.get("x-request-id", "")
        request_id = incoming if SUBJECT_ID.match(incoming) else f"req_{uuid.uuid4().hex}"
        state["request_id"] = request_id
    return str(request_id)
