"""The LLM gateway: route a logical model, enforce budgets and rate limits, fall back, record usage."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from decimal import Decimal
from typing import Any

import msgspec

from domain.kernel.clock import Clock
from domain.kernel.errors import InvalidRequest
from domain.kernel.usage import Usage
from domain.ledger.events import LlmCallCompleted
from domain.ledger.ports import UsageRecorder
from domain.llm.admission import Admission, Quota, Ticket, budget_lines
from domain.llm.bookkeeping import Bookkeeper, CallContext
from domain.llm.health import TargetHealth
from domain.llm.parameters import PASS_ALL, ParameterPolicy
from domain.llm.policies import (
    MAX_TOKENS_CAP,
    BudgetPolicy,
    ChatChunk,
    ChatRequest,
    ChatResult,
    LimitPolicy,
    PriceTable,
    ProviderError,
    Router,
    Target,
    estimate_prompt_tokens,
    prompt_token_bound,
)
from domain.llm.ports import AdmissionControl, ChatProvider, GatewayMetrics


class Completion(msgspec.Struct, frozen=True):
    result: ChatResult
    provider: str
    physical_model: str
    cost_usd: Decimal | None
    upstream_ms: float
    quota: Quota = Quota()
    dropped: tuple[str, ...] = ()  # optional parameters the answering target was not sent (ParameterPolicy)


class StreamSummary(msgspec.Struct):
    """Filled in as a stream runs, so the adapter can report which target answered and what it cost."""

    provider: str = ""
    physical_model: str = ""
    cost_usd: Decimal | None = None
    first_chunk_wait_ms: float = 0.0
    quota: Quota = Quota()
    dropped: tuple[str, ...] = ()


class _Attempt(msgspec.Struct, frozen=True):
    """One target, and the request as its parameter policy lets it see it."""

    target: Target
    request: ChatRequest
    dropped: tuple[str, ...]


class LlmGateway:
    def __init__(
        self,
        router: Router,
        providers: Mapping[str, ChatProvider],
        prices: PriceTable,
        limits: LimitPolicy,
        budgets: BudgetPolicy,
        admissions: AdmissionControl,
        recorder: UsageRecorder,
        clock: Clock,
        metrics: GatewayMetrics,
        default_max_tokens: int = 1024,
        parameters: Mapping[str, ParameterPolicy] | None = None,
    ) -> None:
        self._router = router
        self._providers = providers
        self._prices = prices
        self._limits = limits
        self._budgets = budgets
        self._admissions = admissions
        self._clock = clock
        self._books = Bookkeeper(recorder, admissions, clock, metrics)
        self._default_max_tokens = default_max_tokens
        self._parameters = parameters or {}

    @property
    def router(self) -> Router:
        return self._router

    @property
    def health(self) -> TargetHealth:
        return self._books.health

    async def complete(self, call: CallContext, request: ChatRequest) -> Completion:
        attempts, admission = await self._admit(call, request)
        targets = [attempt.target for attempt in attempts]
        started = self._clock.monotonic()
        failures: list[ProviderError] = []
        for attempt in attempts:
            target = attempt.target
            attempt_started = self._clock.monotonic()
            try:
                result = await self._providers[target.provider].complete(target.model, attempt.request,
                                                                         target.timeout_s)
            except ProviderError as exc:
                if not self._books.attempt_failed(target, exc, failures):
                    break
                continue
            upstream_ms = (self._clock.monotonic() - attempt_started) * 1000
            cost = self._prices.cost(target.model, result.usage)
            await self._books.settle(
                LlmCallCompleted, call, target, result.usage, cost, started, admission,
                stream=False, status="completed", error_type=None, fallbacks=len(failures),
            )
            return Completion(result, target.provider, target.model, cost, upstream_ms, admission.quota,
                              attempt.dropped)
        raise await self._books.all_failed(call, targets, failures, started, admission, stream=False)

    async def stream(self, call: CallContext, request: ChatRequest, summary: StreamSummary) -> AsyncGenerator[ChatChunk, None]:
        """Yields deltas, then one final chunk carrying usage once the usage event is committed.

        Fallback is possible only until the first chunk arrives; after that a broken upstream is
        recorded as failed and surfaces as UpstreamFailed, and a client that leaves is recorded as cancelled.
        """
        attempts, admission = await self._admit(call, request)
        targets = [attempt.target for attempt in attempts]
        summary.quota = admission.quota
        started = self._clock.monotonic()
        failures: list[ProviderError] = []
        chosen: Target | None = None
        for attempt in attempts:
            target = attempt.target
            upstream = self._providers[target.provider].stream(target.model, attempt.request, target.timeout_s)
            attempt_started = self._clock.monotonic()
            try:
                first = await anext(upstream, None)
            except ProviderError as exc:
                await upstream.aclose()
                if self._books.attempt_failed(target, exc, failures):
                    continue
                break
            chosen, summary.dropped = target, attempt.dropped
            summary.first_chunk_wait_ms = (self._clock.monotonic() - attempt_started) * 1000
            break
        if chosen is None:
            raise await self._books.all_failed(call, targets, failures, started, admission, stream=True)
        target = chosen
        summary.provider, summary.physical_model = target.provider, target.model
        prompt_estimate = estimate_prompt_tokens(request)
        streamed_chars = 0
        usage: Usage | None = None
        outcome = "cancelled"
        try:
            pending = first
            while pending is not None:
                if pending.usage is not None:
                    usage = pending.usage
                if pending.delta or pending.finish_reason:
                    streamed_chars += _delta_chars(pending.delta)
                    yield ChatChunk(pending.delta, pending.finish_reason)
                pending = await anext(upstream, None)
            outcome = "completed"
        except Exception as exc:  # whatever an adapter raises mid-stream is a failure, never the client leaving
            outcome = "failed"
            failure = exc if isinstance(exc, ProviderError) else ProviderError(
                "bad_response", f"its answer failed to read ({type(exc).__name__})")
            so_far = Usage(prompt_estimate, (streamed_chars + 3) // 4)
            raise await self._books.stream_broke(
                call, target, failure, so_far, self._prices.cost(target.model, so_far), started, admission,
                len(failures),
            ) from exc
        finally:
            await upstream.aclose()
            if outcome == "cancelled":
                so_far = usage or Usage(prompt_estimate, (streamed_chars + 3) // 4)
                self._books.stream_cancelled(
                    call, target, so_far, self._prices.cost(target.model, so_far), started, admission, len(failures),
                )
        final_usage = usage or Usage(prompt_estimate, (streamed_chars + 3) // 4)
        summary.cost_usd = self._prices.cost(target.model, final_usage)
        await self._books.settle(
            LlmCallCompleted, call, target, final_usage, summary.cost_usd, started, admission,
            stream=True, status="completed", error_type=None, fallbacks=len(failures),
        )
        yield ChatChunk({}, None, final_usage)

    async def _admit(self, call: CallContext, request: ChatRequest) -> tuple[list[_Attempt], Admission]:
        """Reserves the call's worst case; the requests that come back carry the max_tokens reserved for,
        so the providers bound the completion by it, and what each target's parameter policy lets through
        (a policy that rejects refuses here, before anything is reserved)."""
        targets = self._router.targets_for(call.logical_model)
        limit = self._limits.for_agent(call.agent_id)
        cap = limit.max_tokens or MAX_TOKENS_CAP
        if request.max_tokens is None:
            request = msgspec.structs.replace(request, max_tokens=min(self._default_max_tokens, cap))
        elif request.max_tokens > cap:
            raise InvalidRequest(
                f"max_tokens {request.max_tokens} is above the cap of {cap} for {call.agent_id}; ask for at most {cap}"
            )
        max_tokens = request.max_tokens or cap
        tokens = estimate_prompt_tokens(request) + max_tokens
        if tokens > limit.tokens_per_minute:
            raise InvalidRequest(
                f"request needs about {tokens} tokens, more than the {limit.tokens_per_minute} tokens/min "
                f"allowed for {call.agent_id}; lower max_tokens or shorten the prompt"
            )
        budgets = budget_lines(self._budgets, call.agent_id, call.microdao_id, call.key_id, call.key_budget_usd)
        cost = (self._prices.worst_cost(targets, Usage(prompt_token_bound(request), max_tokens)) if budgets
                else Decimal(0))
        attempts = [_Attempt(target, *self._parameters.get(target.provider, PASS_ALL).fit(request, target.provider))
                    for target in targets]
        admission = await self._admissions.admit(
            Ticket(call.agent_id, call.microdao_id, limit, tokens, cost, budgets))
        return attempts, admission


def _delta_chars(delta: dict[str, Any]) -> int:
    content = delta.get("content")
    chars = len(content) if isinstance(content, str) else 0
    if "tool_calls" in delta:
        chars += len(msgspec.json.encode(delta["tool_calls"]))
    return chars
