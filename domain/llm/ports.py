"""What the LLM gateway needs: providers, a rate limiter, month-to-date spend and metrics."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from decimal import Decimal
from typing import Protocol

import msgspec

from domain.llm.policies import ChatChunk, ChatRequest, ChatResult, RateLimit


class ChatProvider(Protocol):
    """One LLM backend. Raises domain.llm.policies.ProviderError, classified for fallback."""

    name: str

    async def complete(self, model: str, request: ChatRequest, timeout_s: float) -> ChatResult: ...

    def stream(self, model: str, request: ChatRequest, timeout_s: float) -> AsyncGenerator[ChatChunk, None]: ...

    async def aclose(self) -> None: ...


class Admission(msgspec.Struct, frozen=True):
    """A granted slot in an agent's rate window, with the tokens reserved for it."""

    agent_id: str
    window_start: int
    reserved_tokens: int


class RateLimiter(Protocol):
    async def admit(self, agent_id: str, limit: RateLimit, tokens: int) -> Admission:
        """Atomically takes one request and `tokens` from the agent's window or raises RateLimited."""
        ...

    async def reconcile(self, admission: Admission, actual_tokens: int) -> None:
        """Gives back (or charges) the difference between reserved and actual tokens."""
        ...


class SpendReader(Protocol):
    async def month_to_date_usd(self, agent_id: str, microdao_id: str) -> tuple[Decimal, Decimal]:
        """(agent's spend, microDAO's spend) this calendar month, from the usage projection."""
        ...


class GatewayMetrics(Protocol):
    def provider_error(self, provider: str, kind: str) -> None: ...

    def fallback(self, from_provider: str) -> None: ...

    def call_finished(
        self, agent_id: str, logical_model: str, status: str, prompt_tokens: int, completion_tokens: int,
        cost_usd: Decimal | None,
    ) -> None: ...
