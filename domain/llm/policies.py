"""LLM gateway policies: chat shapes, routing of logical models, prices, rate limits and budgets."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec

from domain.kernel.errors import UnknownModel
from domain.kernel.usage import Usage


class ChatRequest(msgspec.Struct, frozen=True):
    """What a provider needs; messages and tools keep the OpenAI shape so they pass through untouched."""

    messages: list[dict[str, Any]]
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: str | list[str] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    seed: int | None = None
    extra: dict[str, Any] = {}


class ChatResult(msgspec.Struct, frozen=True):
    content: str | None
    tool_calls: list[dict[str, Any]] | None
    finish_reason: str
    usage: Usage


class ChatChunk(msgspec.Struct, frozen=True):
    """One streamed delta in the OpenAI shape (`role`, `content`, `tool_calls`), or the final usage."""

    delta: dict[str, Any]
    finish_reason: str | None = None
    usage: Usage | None = None


class ProviderError(Exception):
    """A provider failure, classified so the router knows whether another target may be tried.

    kinds: connect, timeout, server_error, rate_limited, not_configured and bad_response (an answer that is
    not a well-formed completion or stream chunk: wrong shape, truncated, not JSON) all fall back;
    rejected (the request itself is wrong) never does; stream_broken (after output began) cannot.
    """

    FALLBACK_KINDS = frozenset(
        {"connect", "timeout", "server_error", "rate_limited", "not_configured", "bad_response"}
    )

    def __init__(self, kind: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status

    @property
    def may_fall_back(self) -> bool:
        return self.kind in self.FALLBACK_KINDS


class Target(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    provider: str
    model: str
    timeout_s: float = 60.0


class Price(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    input_per_1m: Decimal
    output_per_1m: Decimal


class RateLimit(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An agent's rates, and the most completion tokens one of its calls may ask for (None: the default's)."""

    requests_per_minute: Annotated[int, msgspec.Meta(ge=1)] = 600
    tokens_per_minute: Annotated[int, msgspec.Meta(ge=1)] = 1_000_000
    max_tokens: Annotated[int, msgspec.Meta(ge=1)] | None = None


class Router:
    def __init__(self, routes: dict[str, list[Target]]) -> None:
        self._routes = routes

    def targets_for(self, logical_model: str) -> list[Target]:
        targets = self._routes.get(logical_model)
        if not targets:
            raise UnknownModel(f"model '{logical_model}' is not configured; see GET /v1/models", param="model")
        return targets

    @property
    def models(self) -> list[str]:
        return sorted(self._routes)


class PriceTable:
    """USD per 1M tokens by physical model; an unknown price is None (flagged), never a silent 0."""

    _PER_TOKEN = Decimal(1_000_000)

    def __init__(self, prices: dict[str, Price]) -> None:
        self._prices = prices

    def cost(self, physical_model: str, usage: Usage) -> Decimal | None:
        price = self._prices.get(physical_model)
        if price is None:
            return None
        cost = (price.input_per_1m * usage.prompt_tokens + price.output_per_1m * usage.completion_tokens)
        return (cost / self._PER_TOKEN).quantize(Decimal("0.0000000001"))

    def worst_cost(self, targets: list[Target], usage: Usage) -> Decimal:
        """What `usage` costs on the dearest priced target: any of them may end up answering. Unpriced
        targets add nothing (their calls are recorded with cost null and flagged)."""
        costs = [cost for target in targets if (cost := self.cost(target.model, usage)) is not None]
        return max(costs, default=Decimal(0))


MAX_TOKENS_CAP = 32_768  # when neither the agent's limits nor the default name a cap


class LimitPolicy:
    """Each agent's limits, with its max_tokens cap resolved: its own, else the default's, else MAX_TOKENS_CAP."""

    def __init__(self, default: RateLimit, per_agent: dict[str, RateLimit]) -> None:
        cap = default.max_tokens or MAX_TOKENS_CAP
        self._default = msgspec.structs.replace(default, max_tokens=cap)
        self._per_agent = {agent: limit if limit.max_tokens else msgspec.structs.replace(limit, max_tokens=cap)
                           for agent, limit in per_agent.items()}

    def for_agent(self, agent_id: str) -> RateLimit:
        return self._per_agent.get(agent_id, self._default)


class BudgetPolicy:
    """Monthly USD budgets; None means unlimited."""

    def __init__(self, per_agent: dict[str, Decimal], per_microdao: dict[str, Decimal]) -> None:
        self.per_agent = per_agent
        self.per_microdao = per_microdao

    def agent_budget(self, agent_id: str) -> Decimal | None:
        return self.per_agent.get(agent_id)

    def microdao_budget(self, microdao_id: str) -> Decimal | None:
        return self.per_microdao.get(microdao_id)


def estimate_prompt_tokens(request: ChatRequest) -> int:
    """A cheap upper-leaning estimate (about 4 characters a token) used to reserve tokens at admission."""
    chars = 0
    for message in request.messages:
        content = message.get("content")
        if isinstance(content, str):
            chars += len(content)
        elif content is not None:
            chars += len(msgspec.json.encode(content))
        if "tool_calls" in message:
            chars += len(msgspec.json.encode(message["tool_calls"]))
    if request.tools:
        chars += len(msgspec.json.encode(request.tools))
    return chars // 4 + 4 * len(request.messages) + 1


def prompt_token_bound(request: ChatRequest) -> int:
    """At least as many tokens as any provider will count for the prompt. Byte-level tokenizers never make
    more tokens than UTF-8 bytes, so this counts bytes (4x the estimate for English), plus the framing of
    each message and a ceiling for each image (a 2048 px image is at most ~1.8k tokens on OpenAI's models)."""
    size = 0
    for message in request.messages:
        content = message.get("content")
        if isinstance(content, str):
            size += len(content.encode())
        elif content is not None:
            size += len(msgspec.json.encode(content))
            if isinstance(content, list):
                size += _IMAGE_TOKENS * sum(isinstance(part, dict) and part.get("type") != "text" for part in content)
        if "tool_calls" in message:
            size += len(msgspec.json.encode(message["tool_calls"]))
    if request.tools:
        size += len(msgspec.json.encode(request.tools))
    return size + _MESSAGE_FRAMING * len(request.messages) + _REPLY_PRIMING


_IMAGE_TOKENS = 2_000
_MESSAGE_FRAMING = 8  # role and separators: 3-4 tokens on OpenAI's chat format, more on some templates
_REPLY_PRIMING = 16


def estimate_text_tokens(text: str) -> int:
    return (len(text) + 3) // 4
