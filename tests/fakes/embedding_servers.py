"""A local stand-in for Ollama's POST /api/embed and OpenAI's POST /embeddings, served over real HTTP.

Behaviour by model name: `ok-<dims>` answers (vectors deliberately not unit length, data out of order
for OpenAI), `wrong-dims` answers 3-dimensional vectors, `fail-500` fails, `slow-<secs>` sleeps first.
Every request is kept in `requests` (path, headers, body).
"""

from __future__ import annotations

import asyncio
import json
import zlib
from typing import Any

from tests.fakes.llm_servers import _json, _lifespan, read_body


def fake_vector(text: str, dims: int) -> list[float]:
    seed = zlib.crc32(text.encode())
    return [float((seed >> (i % 24)) % 7 + 1) for i in range(dims)]


class FakeEmbeddingServer:
    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        payload = json.loads(await read_body(receive))
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.requests.append({"path": scope["path"], "headers": headers, "body": payload})
        openai_style = not scope["path"].startswith("/api/")  # Ollama takes no key
        if openai_style and self.api_key and headers.get("authorization") != f"Bearer {self.api_key}":
            await _json(send, 401, {"error": {"message": "bad key"}})
            return
        model: str = payload["model"]
        texts = payload["input"] if isinstance(payload["input"], list) else [payload["input"]]
        if model == "fail-500":
            await _json(send, 500, {"error": "model exploded"})
            return
        if model.startswith("slow-"):
            await asyncio.sleep(float(model.split("-", 1)[1]))
        dims = 3 if model == "wrong-dims" else int(model.rsplit("-", 1)[-1]) if model.startswith("ok-") else 8
        vectors = [fake_vector(text, dims) for text in texts]
        if scope["path"] == "/api/embed":
            await _json(send, 200, {"model": model, "embeddings": vectors})
        else:
            data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
            await _json(send, 200, {"object": "list", "model": model, "data": list(reversed(data))})
