"""A small real HTTP upstream for Toolcore's executor tests (raw ASGI, served by uvicorn on 127.0.0.1).

Routes: /ok, /echo-headers, /slow?s=, /flaky/{name}?fail=N (503 for the first N hits of that name),
/big?n=, /redirect?to=, /text, /not-json, /missing (404). `hits` counts requests per path.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any
from urllib.parse import parse_qs


class Upstream:
    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.headers: list[dict[str, str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        path = scope["path"]
        raw_path = scope.get("raw_path", path.encode()).decode()
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.hits[path] += 1
        self.headers.append(headers)
        status, content_type, body, extra = await self._route(path, raw_path, query, headers)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type.encode()), *extra]})
        await send({"type": "http.response.body", "body": body})

    async def _route(self, path: str, raw_path: str, query: dict[str, str],
                     headers: dict[str, str]) -> tuple[int, str, bytes, list[tuple[bytes, bytes]]]:
        if path == "/slow":
            await asyncio.sleep(float(query.get("s", "2")))
        if path.startswith("/flaky/") and self.hits[path] <= int(query.get("fail", "2")):
            return 503, "application/json", b'{"error": {"message": "try later"}}', []
        if path == "/big":
            return 200, "application/json", json.dumps({"blob": "x" * int(query.get("n", "100000"))}).encode(), []
        if path == "/redirect":
            return 302, "text/plain", b"", [(b"location", query["to"].encode())]
        if path == "/echo-headers":
            return 200, "application/json", json.dumps({"headers": headers}).encode(), []
        if path == "/text":
            return 200, "text/plain", b"plain words", []
        if path == "/not-json":
            return 200, "application/json", b"{not json", []
        if path == "/missing":
            return 404, "application/json", b'{"error": {"message": "no such thing"}}', []
        return 200, "application/json", json.dumps({"ok": True, "raw_path": raw_path, "query": query}).encode(), []
