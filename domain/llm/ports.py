"""What the LLM gateway needs: providers, admission control (rate limits and budgets) and metrics."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from decimal import Decimal
from typing import Protocol

import msgspec

from domain.llm.admission import Admission, Ticket
from domain.llm.policies import ChatChunk, ChatRequest, ChatResult


class ChatProvider(Protocol):
    """One LLM backend. Raises domain.llm.policies.ProviderError, classified for fallback."""

    name: str

    async def complete(self, model: str, request: ChatRequest, timeout_s: float) -> ChatResult: ...

    def stream(self, model: str, request: ChatRequest, timeout_s: float) -> AsyncGenerator[ChatChunk, None]: ...

    async def aclose(self) -> None: ...


class Embedded(msgspec.Struct, frozen=True):
    vectors: list[list[float]]     # one per text, in order
    prompt_tokens: int | None      # as the target counted them; None: it does not say


class EmbeddingProvider(Protocol):
    """One embeddings backend. Raises domain.llm.policies.ProviderError, classified for fallback
    (`rejected` for a request it cannot serve, such as `dimensions` it cannot make)."""

    name: str

    async def embed(self, model: str, texts: list[str], dimensions: int | None, timeout_s: float) -> Embedded: ...

    async def aclose(self) -> None: ...


class AdmissionControl(Protocol):
    """Rate limits and budgets, exact across every process that shares the store."""

    async def admit(self, ticket: Ticket) -> Admission:
        """Atomically takes one request and the ticket's tokens from the agent's rate window and reserves
        its cost on every budget line, or takes nothing and raises OverRateLimit / OverBudget
        (domain.llm.admission); ServiceUnavailable when the store cannot be reached (never admits unchecked)."""
        ...

    async def settle(self, admission: Admission, tokens: int, cost_usd: Decimal) -> None:
        """Replaces the reservation by what the call really used. Never raises: a settlement that fails
        is logged and the reservation stays charged (over-reserving is the safe side)."""
        ...


class GatewayMetrics(Protocol):
    def provider_error(self, provider: str, kind: str) -> None: ...

    def fallback(self, from_provider: str) -> None: ...

    def call_finished(
        self, agent_id: str, logical_model: str, status: str, prompt_tokens: int, completion_tokens: int,
        cost_usd: Decimal | None,
    ) -> None: ...
