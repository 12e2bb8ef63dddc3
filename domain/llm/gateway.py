"""The LLM gateway: route a logical model, enforce budgets and rate limits, fall back, record usage."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
from decimal import Decimal
from typing import Any

import msgspec

from domain.kernel.clock import Clock
from domain.kernel.errors import BudgetExhausted, InvalidRequest, UpstreamFailed, UpstreamTimeout
from domain.kernel.usage import Usage
from domain.ledger.events import LlmCallCancelled, LlmCallCompleted, LlmCallFailed, LlmCallRecorded, new_entry
from domain.ledger.ports import UsageRecorder
from domain.llm.policies import (
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
)
from domain.llm.ports import Admission, ChatProvider, GatewayMetrics, RateLimiter, SpendReader


class CallContext(msgspec.Struct, frozen=True):
    request_id: str
    agent_id: str
    microdao_id: str
    logical_model: str


class Completion(msgspec.Struct, frozen=True):
    result: ChatResult
    provider: str
    physical_model: str
    cost_usd: Decimal | None
    upstream_ms: float


class StreamSummary(msgspec.Struct):
    """Filled in as a stream runs, so the adapter can report which target answered and what it cost."""

    provider: str = ""
    physical_model: str = ""
    cost_usd: Decimal | None = None
    first_chunk_wait_ms: float = 0.0


class LlmGateway:
    def __init__(
        self,
        router: Router,
        providers: Mapping[str, ChatProvider],
        prices: PriceTable,
        limits: LimitPolicy,
        budgets: BudgetPolicy,
        rate_limiter: RateLimiter,
        spend: SpendReader,
        recorder: UsageRecorder,
        clock: Clock,
        metrics: GatewayMetrics,
        default_max_tokens: int = 1024,
    ) -> None:
        self._router = router
        self._providers = providers
        self._prices = prices
        self._limits = limits
        self._budgets = budgets
        self._rate_limiter = rate_limiter
        self._spend = spend
        self._recorder = recorder
        self._clock = clock
        self._metrics = metrics
        self._default_max_tokens = default_max_tokens
        self._background: set[asyncio.Task[Any]] = set()

    @property
    def models(self) -> list[str]:
        return self._router.models

    async def complete(self, call: CallContext, request: ChatRequest) -> Completion:
        targets, admission = await self._admit(call, request)
        started = self._clock.monotonic()
        failures: list[ProviderError] = []
        for target in targets:
            attempt_started = self._clock.monotonic()
            try:
                result = await self._providers[target.provider].complete(target.model, request, target.timeout_s)
            except ProviderError as exc:
                if not self._note_failure(target, exc, failures):
                    break
                continue
            upstream_ms = (self._clock.monotonic() - attempt_started) * 1000
            cost = self._prices.cost(target.model, result.usage)
            await self._settle(
                LlmCallCompleted, call, target, result.usage, cost, started, admission,
                stream=False, status="completed", error_type=None, fallbacks=len(failures),
            )
            return Completion(result, target.provider, target.model, cost, upstream_ms)
        raise await self._all_failed(call, targets, failures, started, admission, stream=False)

    async def stream(self, call: CallContext, request: ChatRequest, summary: StreamSummary) -> AsyncGenerator[ChatChunk, None]:
        """Yields deltas, then one final chunk carrying usage once the usage event is committed.

        Fallback is possible only until the first chunk arrives; after that a broken upstream is
        recorded as failed and surfaces as UpstreamFailed, and a client that leaves is recorded as cancelled.
        """
        targets, admission = await self._admit(call, request)
        started = self._clock.monotonic()
        failures: list[ProviderError] = []
        chosen: Target | None = None
        for target in targets:
            upstream = self._providers[target.provider].stream(target.model, request, target.timeout_s)
            attempt_started = self._clock.monotonic()
            try:
                first = await anext(upstream, None)
            except ProviderError as exc:
                await upstream.aclose()
                if self._note_failure(target, exc, failures):
                    continue
                break
            chosen = target
            summary.first_chunk_wait_ms = (self._clock.monotonic() - attempt_started) * 1000
            break
        if chosen is None:
            raise await self._all_failed(call, targets, failures, started, admission, stream=True)
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
        except ProviderError as exc:
            outcome = "failed"
            self._metrics.provider_error(target.provider, exc.kind)
            so_far = Usage(prompt_estimate, (streamed_chars + 3) // 4)
            await self._settle(
                LlmCallFailed, call, target, so_far, self._prices.cost(target.model, so_far), started, admission,
                stream=True, status="failed", error_type="stream_broken", fallbacks=len(failures),
            )
            raise UpstreamFailed(f"upstream '{target.provider}' broke off mid-stream: {exc.message}") from exc
        finally:
            await upstream.aclose()
            if outcome == "cancelled":
                so_far = usage or Usage(prompt_estimate, (streamed_chars + 3) // 4)
                task = asyncio.ensure_future(self._settle(
                    LlmCallCancelled, call, target, so_far, self._prices.cost(target.model, so_far), started,
                    admission, stream=True, status="cancelled", error_type="client_disconnected",
                    fallbacks=len(failures),
                ))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
        final_usage = usage or Usage(prompt_estimate, (streamed_chars + 3) // 4)
        summary.cost_usd = self._prices.cost(target.model, final_usage)
        await self._settle(
            LlmCallCompleted, call, target, final_usage, summary.cost_usd, started, admission,
            stream=True, status="completed", error_type=None, fallbacks=len(failures),
        )
        yield ChatChunk({}, None, final_usage)

    async def _admit(self, call: CallContext, request: ChatRequest) -> tuple[list[Target], Admission]:
        targets = self._router.targets_for(call.logical_model)
        await self._check_budgets(call)
        reserve = estimate_prompt_tokens(request) + (request.max_tokens or self._default_max_tokens)
        limit = self._limits.for_agent(call.agent_id)
        if reserve > limit.tokens_per_minute:
            raise InvalidRequest(
                f"request needs about {reserve} tokens, more than the {limit.tokens_per_minute} tokens/min "
                f"allowed for {call.agent_id}; lower max_tokens or shorten the prompt"
            )
        admission = await self._rate_limiter.admit(call.agent_id, limit, reserve)
        return targets, admission

    async def _check_budgets(self, call: CallContext) -> None:
        agent_budget = self._budgets.agent_budget(call.agent_id)
        microdao_budget = self._budgets.microdao_budget(call.microdao_id)
        if agent_budget is None and microdao_budget is None:
            return
        agent_spent, microdao_spent = await self._spend.month_to_date_usd(call.agent_id, call.microdao_id)
        if agent_budget is not None and agent_spent >= agent_budget:
            raise BudgetExhausted(
                f"monthly budget of {call.agent_id} is exhausted: spent ${agent_spent} of ${agent_budget}"
            )
        if microdao_budget is not None and microdao_spent >= microdao_budget:
            raise BudgetExhausted(
                f"monthly budget of {call.microdao_id} is exhausted: spent ${microdao_spent} of ${microdao_budget}"
            )

    def _note_failure(self, target: Target, exc: ProviderError, failures: list[ProviderError]) -> bool:
        """Records a failed attempt; True when the next target may be tried."""
        failures.append(exc)
        self._metrics.provider_error(target.provider, exc.kind)
        if exc.may_fall_back:
            self._metrics.fallback(target.provider)
        return exc.may_fall_back

    async def _all_failed(
        self, call: CallContext, targets: list[Target], failures: list[ProviderError], started: float,
        admission: Admission, stream: bool,
    ) -> Exception:
        last = failures[-1]
        target = targets[len(failures) - 1]
        await self._settle(
            LlmCallFailed, call, target, Usage(), None, started, admission,
            stream=stream, status="failed", error_type=last.kind, fallbacks=len(failures) - 1,
        )
        if last.kind == "rejected":
            return InvalidRequest(f"provider '{target.provider}' rejected the request: {last.message}")
        summary = "; ".join(f"{t.provider}/{t.model}: {f.kind}" for t, f in zip(targets, failures, strict=False))
        if last.kind == "timeout":
            return UpstreamTimeout(f"every target of '{call.logical_model}' failed, the last by timeout ({summary})")
        return UpstreamFailed(f"every target of '{call.logical_model}' failed ({summary})")

    async def _settle(
        self, event_class: type[LlmCallRecorded], call: CallContext, target: Target, usage: Usage,
        cost: Decimal | None, started: float, admission: Admission, *, stream: bool, status: str,
        error_type: str | None, fallbacks: int,
    ) -> None:
        entry = new_entry(
            event_class,
            request_id=call.request_id, agent_id=call.agent_id, microdao_id=call.microdao_id,
            logical_model=call.logical_model, provider=target.provider, physical_model=target.model,
            prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
            latency_ms=round((self._clock.monotonic() - started) * 1000, 3), cost_usd=cost,
            cost_known=cost is not None, status=status, error_type=error_type, stream=stream,
            fallbacks=fallbacks,
        )
        await self._recorder.record(entry)
        await self._rate_limiter.reconcile(admission, usage.total_tokens)
        self._metrics.call_finished(
            call.agent_id, call.logical_model, status, usage.prompt_tokens, usage.completion_tokens, cost
        )


def _delta_chars(delta: dict[str, Any]) -> int:
    content = delta.get("content")
    chars = len(content) if isinstance(content, str) else 0
    if "tool_calls" in delta:
        chars += len(msgspec.json.encode(delta["tool_calls"]))
    return chars
