"""A chat stream retold as Responses events: each output item is closed before the next one opens, and the
completed response holds every item whole."""

from __future__ import annotations

import json
from typing import Any

from apps.llm_proxy.responses_schemas import ResponsesRequest
from apps.llm_proxy.responses_stream import ResponseEvents
from domain.kernel.usage import Usage
from domain.llm.policies import ChatChunk


def events(raw: bytes) -> list[dict[str, Any]]:
    frames = [frame for frame in raw.decode().split("\n\n") if frame]
    parsed = []
    for frame in frames:
        name, data = frame.split("\n")
        event = json.loads(data.removeprefix("data: "))
        assert name == f"event: {event['type']}"
        parsed.append(event)
    return parsed


def test_text_then_two_tool_calls_become_three_items_closed_in_order() -> None:
    stream = ResponseEvents(ResponsesRequest(model="m", input="hi"), "resp_1")
    raw = stream.start()
    for chunk in (ChatChunk({"role": "assistant", "content": "Let me "}), ChatChunk({"content": "look."}),
                  ChatChunk({"tool_calls": [{"index": 0, "id": "c0", "function": {"name": "a", "arguments": '{"x"'}}]}),
                  ChatChunk({"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}),
                  ChatChunk({"tool_calls": [{"index": 1, "id": "c1", "function": {"name": "b", "arguments": "{}"}}]}),
                  ChatChunk({}, "tool_calls"), ChatChunk({}, None, Usage(7, 5))):
        raw += stream.add(chunk)
    seen = events(raw)
    assert [event["sequence_number"] for event in seen] == list(range(len(seen)))
    opened_closed = [(event["type"], event["output_index"]) for event in seen if ".output_item." in event["type"]]
    assert opened_closed == [("response.output_item.added", 0), ("response.output_item.done", 0),
                             ("response.output_item.added", 1), ("response.output_item.done", 1),
                             ("response.output_item.added", 2), ("response.output_item.done", 2)]
    completed = seen[-1]
    assert completed["type"] == "response.completed" and completed["response"]["usage"]["total_tokens"] == 12
    text, first, second = completed["response"]["output"]
    assert text["content"][0]["text"] == "Let me look."
    assert (first["call_id"], first["name"], first["arguments"]) == ("c0", "a", '{"x": 1}')
    assert (second["call_id"], second["name"], second["arguments"]) == ("c1", "b", "{}")


def test_a_completion_cut_by_max_output_tokens_ends_incomplete() -> None:
    stream = ResponseEvents(ResponsesRequest(model="m", input="hi", max_output_tokens=2), "resp_2")
    raw = stream.start() + stream.add(ChatChunk({"content": "a b"})) + stream.add(ChatChunk({}, "length"))
    last = events(raw + stream.add(ChatChunk({}, None, Usage(1, 2))))[-1]
    assert last["type"] == "response.incomplete"
    assert last["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
