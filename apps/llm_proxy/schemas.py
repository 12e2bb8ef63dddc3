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
    include_usage: bool | None = None  # None: /v1 sends no usage chunk (as OpenAI), /internal does
    include_obfuscation: bool | None = None


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
    # OpenAI's optional parameters: sent to targets that take them; the others' config passes, drops or rejects
    # them (domain/llm/parameters.py).
    logprobs: bool | None = None
    top_logprobs: Annotated[int, msgspec.Meta(ge=0, le=20)] | None = None
    logit_bias: Annotated[dict[Label, Annotated[float, msgspec.Meta(ge=-100, le=100)]],
                          msgspec.Meta(max_length=1024)] | None = None
    reasoning_effort: Label | None = None
    service_tier: Label | None = None
    verbosity: Label | None = None
    modalities: Annotated[list[Label], msgspec.Meta(max_length=4)] | None = None
    audio: dict[str, Any] | None = None
    prediction: dict[str, Any] | None = None
    web_search_options: dict[str, Any] | None = None
    prompt_cache_key: Label | None = None
    safety_identifier: Label | None = None
    store: bool | None = None


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


class TargetStatus(msgspec.Struct):
    provider: str
    model: str
    configured: bool                 # has its credentials (an API key, when it needs one)
    last_result: Literal["ok", "failed", "unknown"]  # of the last call this process made to it
    last_error: str | None = None    # how that call failed
    last_checked: int | None = None  # when, in Unix seconds


class Availability(msgspec.Struct):
    """DAARION's extension of a model card: can this model answer now, and through which targets."""

    kind: Literal["chat", "embeddings"]
    answerable: bool  # some target is configured and did not fail its last call
    targets: list[TargetStatus]


class ModelCard(msgspec.Struct):
    id: str
    daarion: Availability
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


EmbeddingInput = Annotated[str, msgspec.Meta(min_length=1)]


class EmbeddingsRequest(StrictStruct, kw_only=True):
    """POST /v1/embeddings: text inputs (token arrays are not taken: targets count tokens their own way)."""

    model: ModelName
    input: EmbeddingInput | Annotated[list[EmbeddingInput], msgspec.Meta(min_length=1, max_length=2048)]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: Annotated[int, msgspec.Meta(ge=1, le=8192)] | None = None
    user: Label | None = None


class Embedding(msgspec.Struct):
    index: int
    embedding: list[float] | str  # base64: little-endian float32s, as OpenAI sends them
    object: str = "embedding"


class EmbeddingsUsage(msgspec.Struct):
    prompt_tokens: int
    total_tokens: int


class EmbeddingsList(msgspec.Struct):
    data: list[Embedding]
    model: str
    usage: EmbeddingsUsage
    object: str = "list"
