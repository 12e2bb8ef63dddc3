"""Decoding what an OpenAI-compatible upstream sends: completions and stream chunks, well-formed or not."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from domain.kernel.usage import Usage
from domain.llm.policies import ChatChunk, ChatResult, ProviderError
from infra.llm.providers.openai_wire import chunks_of, completion_of


def encoded(value: Any) -> bytes:
    return json.dumps(value).encode()


def completion(message: dict[str, Any], usage: Any = None, **fields: Any) -> bytes:
    body = {"id": "cmpl-1", "object": "chat.completion", "system_fingerprint": "fp",
            "choices": [{"index": 0, "message": message, "logprobs": None, **fields}]}
    return encoded(body if usage is None else {**body, "usage": usage})


def test_a_completion_decodes_to_its_content_finish_reason_and_usage_ignoring_unknown_fields() -> None:
    body = completion({"role": "assistant", "content": "hi", "refusal": None}, {
        "prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15, "prompt_tokens_details": {"cached_tokens": 0},
    }, finish_reason="length")
    assert completion_of(body) == ChatResult("hi", None, "length", Usage(12, 3))


def test_a_completion_without_usage_or_finish_reason_counts_nothing_and_stopped() -> None:
    assert completion_of(completion({"content": "hi"})) == ChatResult("hi", None, "stop", Usage())
    nulls = completion({"content": None}, {"prompt_tokens": None, "completion_tokens": 4}, finish_reason=None)
    assert completion_of(nulls) == ChatResult(None, None, "stop", Usage(0, 4))


def test_a_completion_s_tool_calls_come_back_in_openai_shape() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": '{"q": "x"}'}}
    result = completion_of(completion({"content": None, "tool_calls": [call]}, finish_reason="tool_calls"))
    assert (result.tool_calls, result.finish_reason) == ([call], "tool_calls")


@pytest.mark.parametrize("body", [
    b'{"choices":[5]}', b'{"id":"cmpl-1"}', b'{"choices":[]}', b'{"choices":null}', b"[1]", b'"choices"', b"null",
    b'{"choices":[{"finish_reason":"stop"}]}', b'{"choices":[{"message":5}]}',
    completion({"content": 5}), completion({"content": ["a"]}), completion({"content": "hi"}, finish_reason=7),
    completion({"tool_calls": [{"id": "c", "type": "function"}]}),
    completion({"tool_calls": [{"id": "c", "function": {"name": "f", "arguments": {"q": 1}}}]}),
    completion({"tool_calls": {"id": "c"}}),
    completion({"content": "hi"}, {"prompt_tokens": "abc", "completion_tokens": 1}),
    completion({"content": "hi"}, {"prompt_tokens": "12", "completion_tokens": 1}),
    completion({"content": "hi"}, {"prompt_tokens": 1.5, "completion_tokens": 1}),
    completion({"content": "hi"}, {"prompt_tokens": -1, "completion_tokens": 1}),
    completion({"content": "hi"}, {"prompt_tokens": 2**31, "completion_tokens": 1}),
    completion({"content": "hi"}, {"prompt_tokens": 10**30, "completion_tokens": 1}),
    completion({"content": "hi"}, "usage"),
])
def test_a_body_that_is_not_a_completion_is_refused(body: bytes) -> None:
    with pytest.raises(msgspec.ValidationError):
        completion_of(body)


@pytest.mark.parametrize("body", [b"<html>502 Bad Gateway</html>", b'{"choices":[{"message":{"content":"hel', b"",
                                  b'{"choices":[]}trailing', b"\xff\xfe"])
def test_a_body_that_is_not_json_or_cut_off_is_refused(body: bytes) -> None:
    with pytest.raises(msgspec.DecodeError):
        completion_of(body)


def test_a_chunk_s_deltas_keep_what_was_sent_and_drop_nulls() -> None:
    chunk = {"id": "c", "object": "chat.completion.chunk", "usage": None, "choices": [
        {"index": 0, "delta": {"role": "assistant", "content": "Hel", "refusal": None}, "finish_reason": None}]}
    assert chunks_of(encoded(chunk)) == ([ChatChunk({"role": "assistant", "content": "Hel"})], None)
    reasoning = {"choices": [{"delta": {"content": None, "reasoning_content": "hmm"}}]}
    assert chunks_of(encoded(reasoning)) == ([ChatChunk({"reasoning_content": "hmm"})], None)
    assert chunks_of(b'{"choices":[{"delta":{},"finish_reason":"stop"}]}') == ([ChatChunk({}, "stop")], None)
    assert chunks_of(b'{"choices":[{"delta":{"content":null}},{"index":1}]}') == ([], None)


def test_a_tool_call_delta_passes_through_without_its_null_fields() -> None:
    first = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": ""}}
    later = {"index": 0, "id": None, "function": {"arguments": '{"q"'}}
    chunk = encoded({"choices": [{"delta": {"tool_calls": [first]}}, {"delta": {"tool_calls": [later]}}]})
    assert chunks_of(chunk) == ([ChatChunk({"tool_calls": [first]}),
                                 ChatChunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"q"'}}]})], None)


def test_a_usage_chunk_becomes_one_chunk_with_usage_and_an_empty_usage_none() -> None:
    usage = encoded({"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}})
    assert chunks_of(usage) == ([ChatChunk({}, None, Usage(9, 4))], None)
    assert chunks_of(b'{"choices":[],"usage":{}}') == ([], None)
    assert chunks_of(b'{"id":"c"}') == ([], None)


def test_an_error_reported_in_the_stream_comes_back_as_the_error() -> None:
    assert chunks_of(b'{"error":{"message":"overloaded"}}') == ([], {"message": "overloaded"})


@pytest.mark.parametrize("data", [
    b"[1]", b"5", b'{"choices":[5]}', b'{"choices":{"delta":{}}}', b'{"choices":[{"delta":5}]}',
    b'{"choices":[{"delta":{"content":5}}]}', b'{"choices":[{"delta":{"role":["assistant"]}}]}',
    b'{"choices":[{"delta":{"tool_calls":[{"function":{"name":"f"}}]}}]}',
    b'{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":{}}}]}}]}',
    b'{"choices":[{"delta":{},"finish_reason":3}]}', b'{"usage":{"prompt_tokens":"abc"}}',
    b'{"usage":{"completion_tokens":-3}}', b'{"usage":[1]}',
])
def test_a_stream_chunk_of_the_wrong_shape_is_refused(data: bytes) -> None:
    with pytest.raises(msgspec.ValidationError):
        chunks_of(data)


@pytest.mark.parametrize("data", [b"<html>", b'{"choices":[{"delta":{"cont', b"{}x"])
def test_a_stream_chunk_that_is_not_json_is_refused(data: bytes) -> None:
    with pytest.raises(msgspec.DecodeError):
        chunks_of(data)


def test_a_bad_response_may_fall_back_to_the_next_target() -> None:
    assert ProviderError("bad_response", "garbage").may_fall_back
