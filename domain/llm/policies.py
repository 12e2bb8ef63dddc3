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

    kinds: connect, timeout, server_error, rate_limited, not_configured (all fall back),
    rejected (the request itself is wrong: never falls back), stream_broken (after output began).
    """

    FALLBACK_KINDS = frozenset({"connect", "timeout", "server_error", "rate_limited", "not_configured"})

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
    requests_per_minute: Annotated[int, msgspec.Meta(ge=1)] = 600
    tokens_per_minute: Annotated[int, msgspec.Meta(ge=1)] = 1_000_000


class Router:
    def __init__(self, routes: dict[str, list[Target]]) -> None:
        self._routes = routes

    def targets_for(self, logical_model: str) -> list[Target]:
        targets = self._routes.get(logical_model)
        if not targets:
            raise UnknownModel(f"model '{logical_model}' is not configured; see GET /v1/models")
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


class LimitPolicy:
    def __init__(self, default: RateLimit, per_agent: dict[str, RateLimit]) -> None:
        self._default = default
        self._per_agent = per_agent

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


def estimate_text_tokens(text: str) -> int:
    return (len(text) + 3) // 4
