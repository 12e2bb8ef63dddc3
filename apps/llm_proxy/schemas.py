"""Request and response bodies of the LLM proxy (OpenAI chat.completion shapes)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from apps.common.structs import StrictStruct
from domain.kernel.ids import SubjectId

ModelName = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class ChatMessage(StrictStruct, omit_defaults=True):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None


class StreamOptions(StrictStruct):
    include_usage: bool = True


class ChatParameters(StrictStruct, kw_only=True):
    model: ModelName
    messages: Annotated[list[ChatMessage], msgspec.Meta(min_length=1)]
    temperature: Annotated[float, msgspec.Meta(ge=0, le=2)] | None = None
    top_p: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    max_tokens: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] | None = None
    max_completion_tokens: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] | None = None
    stop: str | list[str] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    response_format: dict[str, Any] | None = None
    seed: int | None = None
    presence_penalty: Annotated[float, msgspec.Meta(ge=-2, le=2)] | None = None
    frequency_penalty: Annotated[float, msgspec.Meta(ge=-2, le=2)] | None = None
    n: Annotated[int, msgspec.Meta(ge=1, le=1)] | None = None
    user: str | None = None
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

    metadata: dict[str, str] | None = None
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
