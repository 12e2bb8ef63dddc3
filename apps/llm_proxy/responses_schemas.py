"""POST /v1/responses: OpenAI's Responses API shapes, as far as the proxy serves them (text and function tools)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from apps.common.structs import StrictStruct
from apps.llm_proxy.schemas import MAX_MESSAGES, MAX_TOOLS, Label, ModelName

Item = dict[str, Any]


class ResponsesRequest(StrictStruct, kw_only=True):
    """Conversation state is the client's: `previous_response_id`, `conversation` and `background` are refused
    (nothing is stored), as are tools other than functions."""

    model: ModelName
    input: str | Annotated[list[Item], msgspec.Meta(max_length=MAX_MESSAGES)]
    instructions: str | None = None
    tools: Annotated[list[Item], msgspec.Meta(max_length=MAX_TOOLS)] | None = None
    tool_choice: Label | Item | None = None
    parallel_tool_calls: bool | None = None
    max_output_tokens: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] | None = None
    temperature: Annotated[float, msgspec.Meta(ge=0, le=2)] | None = None
    top_p: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    stream: bool = False
    stream_options: Item | None = None
    text: Item | None = None
    reasoning: Item | None = None
    metadata: Annotated[dict[Label, Label], msgspec.Meta(max_length=16)] | None = None
    store: bool | None = None
    user: Label | None = None
    service_tier: Label | None = None
    prompt_cache_key: Label | None = None
    safety_identifier: Label | None = None
    include: Annotated[list[Label], msgspec.Meta(max_length=16)] | None = None
    truncation: Label | None = None
    previous_response_id: Label | None = None
    conversation: Label | Item | None = None
    background: bool | None = None


class OutputText(msgspec.Struct, tag_field="type", tag="output_text"):
    text: str
    annotations: list[Any] = []
    logprobs: list[Any] = []


class MessageItem(msgspec.Struct, tag_field="type", tag="message"):
    id: str
    status: str
    content: list[OutputText]
    role: str = "assistant"


class FunctionCallItem(msgspec.Struct, tag_field="type", tag="function_call"):
    id: str
    call_id: str
    name: str
    arguments: str
    status: str


OutputItem = MessageItem | FunctionCallItem


class InputTokensDetails(msgspec.Struct):
    cached_tokens: int = 0


class OutputTokensDetails(msgspec.Struct):
    reasoning_tokens: int = 0


class ResponseUsage(msgspec.Struct):
    input_tokens: int
    output_tokens: int
    total_tokens: int
    input_tokens_details: InputTokensDetails = msgspec.field(default_factory=InputTokensDetails)
    output_tokens_details: OutputTokensDetails = msgspec.field(default_factory=OutputTokensDetails)


class ResponseObject(msgspec.Struct, kw_only=True):
    id: str
    created_at: int
    model: str
    status: str  # in_progress, completed, incomplete (max_output_tokens reached), failed
    output: list[OutputItem]
    parallel_tool_calls: bool
    tool_choice: str | Item
    tools: list[Item]
    temperature: float | None
    top_p: float | None
    instructions: str | None
    max_output_tokens: int | None
    metadata: dict[str, str]
    usage: ResponseUsage | None = None
    error: Item | None = None
    incomplete_details: Item | None = None
    text: Item = msgspec.field(default_factory=lambda: {"format": {"type": "text"}})
    object: str = "response"


# Stream events: `event: <type>` and the JSON of one of these (their `type` repeats the event's name).
class LifecycleEvent(msgspec.Struct):
    type: str
    sequence_number: int
    response: ResponseObject


class OutputItemEvent(msgspec.Struct):
    type: str
    sequence_number: int
    output_index: int
    item: OutputItem


class ContentPartEvent(msgspec.Struct):
    type: str
    sequence_number: int
    item_id: str
    output_index: int
    content_index: int
    part: OutputText


class TextDeltaEvent(msgspec.Struct):
    type: str
    sequence_number: int
    item_id: str
    output_index: int
    content_index: int
    delta: str
    logprobs: list[Any] = []


class TextDoneEvent(msgspec.Struct):
    type: str
    sequence_number: int
    item_id: str
    output_index: int
    content_index: int
    text: str
    logprobs: list[Any] = []


class ArgumentsDeltaEvent(msgspec.Struct):
    type: str
    sequence_number: int
    item_id: str
    output_index: int
    delta: str


class ArgumentsDoneEvent(msgspec.Struct):
    type: str
    sequence_number: int
    item_id: str
    output_index: int
    name: str
    arguments: str


class ErrorEvent(msgspec.Struct):
    type: str
    sequence_number: int
    code: str
    message: str
    param: str | None = None
