"""Local stand-ins for OpenAI/DeepSeek and Ollama, served for real over HTTP on 127.0.0.1.

Behaviour is chosen by the requested model name, so one server covers every case:
  ok*            answers (echoing the last user message), streaming with a final usage chunk
  liar           answers every question with the same invented facts, in English (the agent evaluation's
                 wrong answerer: bench/eval_score.py must score it low)
  tool*          answers with a tool call to the first offered function
  tool-once*     the same, without arguments, until a tool's result comes back: then an answer
  fail-500       500                fail-429      429            reject-400   400 (request's fault)
  slow-<secs>    sleeps before answering (for timeouts)
  break-stream   streams two chunks, then drops the connection without [DONE]
  drip-<n>       streams n chunks 50 ms apart (for client disconnects)
  malformed-*    a 200 that is not an answer (MALFORMED_OPENAI / MALFORMED_OLLAMA say how)
POST .../embeddings (OpenAI) and /api/embed (Ollama) answer 8-dimensional vectors (`dimensions` when asked) and
count a token per word; the models fail-500 and reject-400 fail there too.
Every request is kept in `requests` (with its headers) so tests can assert what the provider saw.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from typing import Any

Scope = dict[str, Any]


class FakeOpenAI:
    def __init__(self, api_key: str = "sk-test-upstream") -> None:
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        body = await read_body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        if headers.get("authorization") != f"Bearer {self.api_key}":
            await _json(send, 401, {"error": {"message": f"bad key {headers.get('authorization', '')}"}})
            return
        payload = json.loads(body)
        self.requests.append({"path": scope["path"], "headers": headers, "body": payload})
        model: str = payload["model"]
        if scope["path"].endswith("/embeddings") and model not in ("fail-500", "reject-400"):
            vectors = _vectors(payload)
            data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
            tokens = sum(len(text.split()) for text in _texts(payload))
            await _json(send, 200, {"object": "list", "model": model, "data": list(reversed(data)),
                                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})
        elif model == "fail-500":
            await _json(send, 500, {"error": {"message": "upstream exploded"}})
        elif model == "fail-429":
            await _json(send, 429, {"error": {"message": "slow down"}})
        elif model == "reject-400":
            await _json(send, 400, {"error": {"message": "messages[0].content is too long"}})
        elif model in MALFORMED_OPENAI:
            await _malformed(send, MALFORMED_OPENAI[model], bool(payload.get("stream")), _sse_frame)
        else:
            if model.startswith("slow-"):
                await asyncio.sleep(float(model.split("-", 1)[1]))
            if payload.get("stream"):
                await self._stream(send, payload)
            else:
                await _json(send, 200, _completion(payload))

    async def _stream(self, send: Any, payload: dict[str, Any]) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})
        model = payload["model"]
        words = _answer(payload).split(" ")
        if model.startswith("drip-"):
            words = [f"w{i}" for i in range(int(model.split("-", 1)[1]))]
        for index, word in enumerate(words):
            if model == "break-stream" and index == 2:
                raise ConnectionResetError("fake upstream dies mid-stream")
            chunk = {"choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}
            await _sse(send, chunk)
            if model.startswith("drip-"):
                await asyncio.sleep(0.05)
        await _sse(send, {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if payload.get("stream_options", {}).get("include_usage"):
            await _sse(send, {"choices": [], "usage": _usage(payload)})
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})


def _texts(payload: dict[str, Any]) -> list[str]:
    return payload["input"] if isinstance(payload["input"], list) else [payload["input"]]


def _vectors(payload: dict[str, Any]) -> list[list[float]]:
    dims = payload.get("dimensions") or 8
    return [[float((zlib.crc32(text.encode()) >> (i % 24)) % 7 + 1) for i in range(dims)] for text in _texts(payload)]


LIE = "Project X is on track: the task “Launch the rocket” is done since 2025-01-01, says member:ghost."


def _answer(payload: dict[str, Any]) -> str:
    if payload["model"] == "liar":
        return LIE
    user = [m for m in payload["messages"] if m["role"] == "user"]
    return f"echo from {payload['model']}: {user[-1]['content'] if user else ''}"


def _usage(payload: dict[str, Any]) -> dict[str, int]:
    prompt = sum(len(str(m.get("content", ""))) for m in payload["messages"])
    completion = len(_answer(payload))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _completion(payload: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": _answer(payload)}
    finish = "stop"
    once = payload["model"].startswith("tool-once")
    answered = once and payload["messages"][-1].get("role") == "tool"
    if payload["model"].startswith("tool") and payload.get("tools") and not answered:
        name = payload["tools"][0]["function"]["name"]
        message = {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": name,
                                                               "arguments": "{}" if once else '{"q": "x"}'}}]}
        finish = "tool_calls"
    return {"id": "cmpl-1", "object": "chat.completion", "created": 0, "model": payload["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": _usage(payload)}


class FakeOllama:
    """Speaks Ollama's /api/chat: one JSON object, or NDJSON lines when streaming."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []  # of each request, in order

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        payload = json.loads(await read_body(receive))
        self.requests.append(payload)
        self.headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
        if payload["model"] == "fail-500":
            await _json(send, 500, {"error": "model runner crashed"})
            return
        if scope["path"] == "/api/embed":
            await _json(send, 200, {"model": payload["model"], "embeddings": _vectors(payload),
                                    "prompt_eval_count": sum(len(text.split()) for text in _texts(payload))})
            return
        if payload["model"] in MALFORMED_OLLAMA:
            await _malformed(send, MALFORMED_OLLAMA[payload["model"]], bool(payload.get("stream")), _ndjson_frame)
            return
        user = [m for m in payload["messages"] if m["role"] == "user"][-1]["content"]
        text = f"ollama says: {user}"
        base = {"model": payload["model"], "created_at": "2026-11-24T00:00:00Z"}
        if not payload.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": text}
            if payload["model"].startswith("tool") and payload.get("tools"):
                name = payload["tools"][0]["function"]["name"]
                message = {"role": "assistant", "content": "",
                           "tool_calls": [{"function": {"name": name, "arguments": {"q": "x"}}}]}
            await _json(send, 200, {**base, "message": message, "done": True, "done_reason": "stop",
                                    "prompt_eval_count": 11, "eval_count": 7})
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/x-ndjson")]})
        for word in text.split(" "):
            line = {**base, "message": {"role": "assistant", "content": word + " "}, "done": False}
            await send({"type": "http.response.body", "body": json.dumps(line).encode() + b"\n", "more_body": True})
        final = {**base, "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop",
                 "prompt_eval_count": 11, "eval_count": 7}
        await send({"type": "http.response.body", "body": json.dumps(final).encode() + b"\n", "more_body": False})


# A malformed answer: the body of a completion, then the payloads of a stream (None: the same body).
# TRUNCATE closes the connection there, in the middle of the body.
Malformed = tuple[bytes, list[bytes] | None]
TRUNCATE = b"<truncate>"
_DELTA = b'{"choices":[{"index":0,"delta":{"content":"fine "},"finish_reason":null}]}'
_PART = b'{"model":"m","message":{"role":"assistant","content":"fine "},"done":false}'
_BAD_COUNT = json.dumps({"model": "m", "message": {"role": "assistant", "content": "hi"}, "done": True,
                         "prompt_eval_count": "abc", "eval_count": 1}).encode()
MALFORMED_OPENAI: dict[str, Malformed] = {
    "malformed-choices": (b'{"choices":[5]}', [b'{"choices":[5]}']),
    "malformed-no-choices": (b'{"id":"cmpl-1","object":"chat.completion"}', [b'{"id":"cmpl-1"}']),
    "malformed-usage": (b'{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":"abc"}}',
                        [_DELTA, b'{"choices":[],"usage":{"prompt_tokens":"abc","completion_tokens":1}}']),
    "malformed-chunk": (b"[1]", [b"[1]"]),
    "malformed-late-chunk": (b"[1]", [_DELTA, _DELTA, b"[1]"]),
    "malformed-cut-json": (b'{"choices":[{"message":{"content":"hel', [b'{"choices":[{"delta":{"cont']),
    "malformed-not-json": (b"<html><body>502 Bad Gateway</body></html>", None),
    "malformed-truncated": (b'{"choices":[{"message":{"content":"hello' + TRUNCATE, [TRUNCATE]),
}
MALFORMED_OLLAMA: dict[str, Malformed] = {
    "malformed-message": (b'{"model":"m","message":5,"done":true}', [b'{"model":"m","message":5,"done":true}']),
    "malformed-usage": (_BAD_COUNT, [_PART, _BAD_COUNT]),
    "malformed-line": (b"[1]", [b"[1]"]),
    "malformed-late-line": (b"[1]", [_PART, _PART, b"[1]"]),
    "malformed-not-json": (b"<html><body>502 Bad Gateway</body></html>", None),
    "malformed-truncated": (b'{"model":"m","message":{"role":"assistant","content":"hello' + TRUNCATE, [TRUNCATE]),
    "malformed-no-done": (b"[1]", [_PART, _PART]),
}


async def _malformed(send: Any, answer: Malformed, stream: bool, frame: Any) -> None:
    whole, parts = answer
    if not stream or parts is None:
        body, cut = whole.split(TRUNCATE)[0], TRUNCATE in whole
        kind = b"text/html" if body.startswith(b"<") else b"application/json"
        headers = [(b"content-type", kind), (b"content-length", str(len(body) + 100 * cut).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": cut})
        if cut:
            raise ConnectionResetError("fake upstream dies mid-body")
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
    for part in parts:
        if part == TRUNCATE:
            raise ConnectionResetError("fake upstream dies mid-stream")
        await send({"type": "http.response.body", "body": frame(part), "more_body": True})
    await send({"type": "http.response.body", "body": frame(b"[DONE]") if frame is _sse_frame else b""})


def _sse_frame(payload: bytes) -> bytes:
    return b"data: " + payload + b"\n\n"


def _ndjson_frame(payload: bytes) -> bytes:
    return payload + b"\n"


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _json(send: Any, status: int, payload: Any) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps(payload).encode()})


async def _sse(send: Any, chunk: dict[str, Any]) -> None:
    await send({"type": "http.response.body", "body": b"data: " + json.dumps(chunk).encode() + b"\n\n",
                "more_body": True})
