"""OpenAI's chat wire format as upstreams send it, decoded strictly into Structs.

A 200 whose body is not a completion (or a stream chunk that is not a chunk) must become a provider
error the router can fall back on, never an AttributeError deep in the proxy; decoding straight into
Structs checks the shape in C at no extra cost (it is faster than decoding to dicts and reading them).
Unknown fields are ignored: upstreams add fields all the time. Wrong types, a missing `choices` or
`message`, and token counts that are not small non-negative integers raise msgspec.ValidationError.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from domain.kernel.usage import Usage
from domain.llm.policies import ChatChunk, ChatResult
from domain.llm.ports import Embedded

# Bigint columns hold far more, but no real call comes near this and a sum of them must not overflow.
Tokens = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]


class _Usage(msgspec.Struct):
    prompt_tokens: Tokens | None = None
    completion_tokens: Tokens | None = None

    def usage(self) -> Usage:
        return Usage(self.prompt_tokens or 0, self.completion_tokens or 0)


class _Function(msgspec.Struct):
    name: str
    arguments: str


class _ToolCall(msgspec.Struct):
    id: str
    function: _Function
    type: str = "function"


class _Message(msgspec.Struct):
    content: str | None = None
    tool_calls: list[_ToolCall] | None = None


class _Choice(msgspec.Struct):
    message: _Message
    finish_reason: str | None = None


class _Completion(msgspec.Struct):
    choices: Annotated[list[_Choice], msgspec.Meta(min_length=1)]
    usage: _Usage | None = None


class _FunctionDelta(msgspec.Struct, omit_defaults=True):
    name: str | None = None
    arguments: str | None = None


class _ToolCallDelta(msgspec.Struct, omit_defaults=True):
    index: int
    id: str | None = None
    type: str | None = None
    function: _FunctionDelta | None = None


class _Delta(msgspec.Struct):
    role: str | None = None
    content: str | None = None
    tool_calls: list[_ToolCallDelta] | None = None
    reasoning_content: str | None = None  # DeepSeek's reasoner streams its thinking here


class _StreamChoice(msgspec.Struct):
    delta: _Delta | None = None
    finish_reason: str | None = None


class _StreamChunk(msgspec.Struct):
    choices: list[_StreamChoice] | None = None
    usage: _Usage | None = None
    error: Any = None


class _Embedding(msgspec.Struct):
    index: int
    embedding: list[float]


class _Embeddings(msgspec.Struct):
    data: list[_Embedding]
    usage: _Usage | None = None


_completion = msgspec.json.Decoder(_Completion)
_embeddings = msgspec.json.Decoder(_Embeddings)
_chunk = msgspec.json.Decoder(_StreamChunk)


def completion_of(content: bytes) -> ChatResult:
    """Raises msgspec.DecodeError (not JSON, or truncated) or msgspec.ValidationError (not a completion)."""
    body = _completion.decode(content)
    choice = body.choices[0]
    message = choice.message
    tool_calls = [msgspec.to_builtins(call) for call in message.tool_calls] if message.tool_calls else None
    return ChatResult(
        content=message.content, tool_calls=tool_calls, finish_reason=choice.finish_reason or "stop",
        usage=body.usage.usage() if body.usage is not None else Usage(),
    )


def chunks_of(data: bytes) -> tuple[list[ChatChunk], Any]:
    """One SSE `data:` payload: its chunks, and the upstream's error if it reported one instead.
    Raises msgspec.DecodeError or msgspec.ValidationError as completion_of does."""
    chunk = _chunk.decode(data)
    if chunk.error is not None:
        return [], chunk.error
    out = []
    for choice in chunk.choices or ():
        delta = _delta(choice.delta) if choice.delta is not None else {}
        if delta or choice.finish_reason is not None:  # an empty one says nothing, and would end fallback
            out.append(ChatChunk(delta, choice.finish_reason))
    usage = chunk.usage
    if usage is not None and (usage.prompt_tokens is not None or usage.completion_tokens is not None):
        out.append(ChatChunk({}, None, usage.usage()))
    return out, None


def _delta(delta: _Delta) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if delta.role is not None:
        out["role"] = delta.role
    if delta.content is not None:
        out["content"] = delta.content
    if delta.tool_calls is not None:
        out["tool_calls"] = msgspec.to_builtins(delta.tool_calls)
    if delta.reasoning_content is not None:
        out["reasoning_content"] = delta.reasoning_content
    return out


def embeddings_of(content: bytes, expected: int) -> Embedded:
    """Vectors in input order (servers may send them in any); ValueError when not one per text."""
    body = _embeddings.decode(content)
    if sorted(item.index for item in body.data) != list(range(expected)):
        raise ValueError(f"{len(body.data)} embeddings, not one for each of {expected} texts")
    vectors = [item.embedding for item in sorted(body.data, key=lambda item: item.index)]
    tokens = body.usage.prompt_tokens if body.usage is not None else None
    return Embedded(vectors, tokens)
