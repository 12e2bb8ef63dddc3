"""POST /v1/responses through the official `openai` SDK: text and function tools, whole and streamed, answered by
the chat gateway and recorded in the same ledger."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from openai.types.responses import FunctionToolParam, ResponseFunctionToolCall, ResponseOutputMessage

from domain.ledger.events import LlmCallCompleted
from tests.fakes.llm_servers import FakeOpenAI
from tests.proxy_support import events_of, key_of

PROJECTS: FunctionToolParam = {"type": "function", "name": "projects_list", "description": "List projects",
                               "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
                               "strict": False}


@pytest.fixture
def client(proxy: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=proxy + "/v1", api_key=key_of(), max_retries=0)


def test_a_plain_response_has_the_text_the_usage_and_its_ledger_event(
    client: openai.OpenAI, fake_openai: tuple[FakeOpenAI, str], ledger: Any,
) -> None:
    raw = client.responses.with_raw_response.create(model="gpt", input="Привіт", instructions="Be brief.",
                                                    max_output_tokens=50, temperature=0.2)
    response = raw.parse()
    assert response.output_text == "echo from ok-gpt: Привіт"
    assert response.status == "completed" and response.object == "response" and response.model == "gpt"
    assert isinstance(response.output[0], ResponseOutputMessage)
    sent = fake_openai[0].requests[-1]["body"]
    assert sent["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Привіт"}]
    assert (sent["max_tokens"], sent["temperature"]) == (50, 0.2)
    [event] = events_of(ledger, raw.headers["x-request-id"])
    assert isinstance(event, LlmCallCompleted) and not event.stream
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (event.prompt_tokens, event.completion_tokens)


def test_function_tools_round_trip_as_function_call_items(
    client: openai.OpenAI, fake_openai: tuple[FakeOpenAI, str],
) -> None:
    first = client.responses.create(model="tools", input="list projects", tools=[PROJECTS], tool_choice="auto")
    [call] = first.output
    assert isinstance(call, ResponseFunctionToolCall)
    assert call.name == "projects_list" and json.loads(call.arguments) == {"q": "x"} and call.call_id == "call_1"
    assert fake_openai[0].requests[-1]["body"]["tools"] == [{"type": "function", "function": {
        "name": "projects_list", "description": "List projects", "parameters": PROJECTS["parameters"],
        "strict": False}}]
    follow_up = client.responses.create(model="gpt", tools=[PROJECTS], input=[
        {"role": "user", "content": "list projects"},
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": '{"items": []}'},
    ])
    sent = fake_openai[0].requests[-1]["body"]["messages"]
    assert sent[1] == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "projects_list", "arguments": call.arguments}}]}
    assert sent[2] == {"role": "tool", "tool_call_id": "call_1", "content": '{"items": []}'}
    assert follow_up.output_text == "echo from ok-gpt: list projects"


def test_a_streamed_response_sends_the_events_the_sdk_expects(client: openai.OpenAI, ledger: Any) -> None:
    raw = client.responses.with_raw_response.create(model="gpt", input="stream me", stream=True)
    events = list(raw.parse())
    kinds = [event.type for event in events]
    assert kinds[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"]
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                          "response.completed"]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert text.strip() == "echo from ok-gpt: stream me"
    completed = events[-1].response  # type: ignore[union-attr]
    assert completed.output_text.strip() == "echo from ok-gpt: stream me" and completed.usage is not None
    [event] = events_of(ledger, raw.headers["x-request-id"])
    assert isinstance(event, LlmCallCompleted) and event.stream
    assert event.completion_tokens == completed.usage.output_tokens > 0


def test_a_streamed_function_call_arrives_as_a_function_call_item(client: openai.OpenAI) -> None:
    events = list(client.responses.create(
        model="stub", input='look [[tool:projects_list {"q": "x"}]]', tools=[PROJECTS], stream=True))
    kinds = [event.type for event in events]
    assert "response.function_call_arguments.delta" in kinds and kinds[-1] == "response.completed"
    done = next(event for event in events if event.type == "response.function_call_arguments.done")
    assert json.loads(done.arguments) == {"q": "x"}
    [item] = events[-1].response.output  # type: ignore[union-attr]
    assert isinstance(item, ResponseFunctionToolCall) and item.status == "completed"


@pytest.mark.parametrize(("extra", "param"), [
    ({"previous_response_id": "resp_1"}, "previous_response_id"),
    ({"tools": [{"type": "web_search"}]}, "tools[0]"),
    ({"input": [{"type": "image_generation_call", "id": "x"}]}, "input[0].type"),
])
def test_what_the_proxy_cannot_serve_is_a_400_naming_the_parameter(
    client: openai.OpenAI, extra: dict[str, Any], param: str,
) -> None:
    arguments = {"model": "gpt", "input": "hi", **extra}
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(**arguments)
    assert (caught.value.param, caught.value.type) == (param, "invalid_request_error")


def test_an_unknown_model_is_a_404_before_anything_streams(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model="nope", input="hi", stream=True)
    assert caught.value.code == "unknown_model"


def test_the_sdks_stream_helper_assembles_the_final_response(client: openai.OpenAI) -> None:
    with client.responses.stream(model="stub", input='go [[tool:projects_list {"q": "y"}]]', tools=[PROJECTS]) as stream:
        final = stream.get_final_response()
    [call] = final.output
    assert isinstance(call, ResponseFunctionToolCall) and json.loads(call.arguments) == {"q": "y"}
    with client.responses.stream(model="gpt", input="assemble me") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        text = stream.get_final_response().output_text
    assert text.strip() == "".join(deltas).strip() == "echo from ok-gpt: assemble me"


async def test_the_async_client_streams_a_response(proxy: str) -> None:
    client = openai.AsyncOpenAI(base_url=proxy + "/v1", api_key=key_of(), max_retries=0)
    stream = await client.responses.create(model="gpt", input="async", stream=True)
    kinds = [event.type async for event in stream]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    await client.close()
