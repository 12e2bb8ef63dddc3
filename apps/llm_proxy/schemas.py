"""Request and response bodies of the LLM proxy (OpenAI chat.completion shapes)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import msgspec

from apps.common.structs import StrictStruct
from domain.kernel.ids import SubjectId
from domain.ledger.reports import UsageRow

ModelName = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
# Bounds on counts and short strings; a message's text is bounded by the route's body limit (apps/common/edge.py).
# OpenAI allows 128 tools; the other counts are far above what a real conversation sends.
Label = Annotated[str, msgspec.Meta(max_length=256)]
Parts = Annotated[list[dict[str, Any]], msgspec.Meta(max_length=1024)]
ToolCalls = Annotated[list[dict[str, Any]], msgspec.Meta(max_length=128)]
MAX_MESSAGES = 10_000
MAX_TOOLS = 128


class ChatMessage(StrictStruct, omit_defaults=True):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | Parts | None = None
    name: Label | None = None
    tool_calls: ToolCalls | None = None
    tool_call_id: Label | None = None


class StreamOptions(StrictStruct):
    include_usage: bool = True


class ChatParameters(StrictStruct, kw_only=True):
    model: ModelName
    messages: Annotated[list[ChatMessage], msgspec.Meta(min_length=1, max_length=MAX_MESSAGES)]
    temperature: Annotated[float, msgspec.Meta(ge=0, le=2)] | None = None
    top_p: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    max_tokens: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] | None = None
    max_completion_tokens: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] | None = None
    stop: Label | Annotated[list[Label], msgspec.Meta(max_length=16)] | None = None
    tools: Annotated[list[dict[str, Any]], msgspec.Meta(max_length=MAX_TOOLS)] | None = None
    tool_choice: Label | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    response_format: dict[str, Any] | None = None
    seed: int | None = None
    presence_penalty: Annotated[float, msgspec.Meta(ge=-2, le=2)] | None = None
    frequency_penalty: Annotated[float, msgspec.Meta(ge=-2, le=2)] | None = None
    n: Annotated[int, msgspec.Meta(ge=1, le=1)] | None = None
    user: Label | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None


class ProxyMetadata(StrictStruct):
    """Optional: the caller is whoever the key belongs to; naming another agent or microDAO is a 403."""

    agent_id: SubjectId | None = None
    microdao_id: SubjectId | None = None


class ProxyRequest(ChatParameters, kw_only=True):
    """POST /internal/llm/proxy: OpenAI parameters (metadata kept for clients that send it)."""

    metadata: ProxyMetadata = msgspec.field(default_factory=ProxyMetadata)


class OpenAIChatRequest(ChatParameters, kw_only=True):
    """POST /v1/chat/completions: the caller is known by its API key."""

    metadata: Annotated[dict[Label, Label], msgspec.Meta(max_length=64)] | None = None
    store: bool | None = None


class ResponseMessage(msgspec.Struct, omit_defaults=True):
    role: str
    content: str | None
    tool_calls: list[dict[str, Any]] | None = None


class Choice(msgspec.Struct):
    index: int
    message: ResponseMessage
    finish_reason: str


class UsageBody(msgspec.Struct):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(msgspec.Struct):
    id: str
    created: int
    model: str
    choices: list[Choice]
    usage: UsageBody
    object: str = "chat.completion"
    system_fingerprint: str | None = None


class ModelCard(msgspec.Struct):
    id: str
    object: str = "model"
    created: int = 0
    owned_by: str = "daarion"


class ModelList(msgspec.Struct):
    data: list[ModelCard]
    object: str = "list"


class ChunkChoice(msgspec.Struct):
    index: int
    delta: dict[str, Any]
    finish_reason: str | None


class ChunkUsage(msgspec.Struct):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_usd: str | None


class ChatCompletionChunk(msgspec.Struct, omit_defaults=True):
    """One `data:` event of a chat stream, for the OpenAPI document: the stream encodes its chunks from dicts
    (the hot path); the last chunk, with `include_usage`, has no choices and the usage."""

    id: str
    object: str
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: ChunkUsage | None = None


class UsageReportView(msgspec.Struct, rename={"since": "from", "until": "to"}):
    group_by: str
    since: date
    until: date
    complete: bool
    rows: list[UsageRow]
    totals: UsageRow  # the rows' sum (key "total"): counts and cost exactly, averages weighted
    agent_id: str | None = None  # the filters the report ran with (an agent's key: its own agent and microDAO)
    microdao_id: str | None = None
