"""The books of every gateway call: who made it, and how it ended.

Each admitted call ends in exactly one usage event in the ledger, then its reservation (tokens per minute
and budgets) is settled to what it really used and its metrics are counted; how a call failed also decides
what the caller hears.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import msgspec

from domain.kernel.clock import Clock
from domain.kernel.errors import InvalidRequest, UpstreamFailed, UpstreamTimeout
from domain.kernel.usage import Usage
from domain.ledger.events import LlmCallCancelled, LlmCallFailed, LlmCallRecorded, new_entry
from domain.ledger.ports import UsageRecorder
from domain.llm.admission import Admission
from domain.llm.health import TargetHealth
from domain.llm.policies import ProviderError, Target
from domain.llm.ports import AdmissionControl, GatewayMetrics


class CallContext(msgspec.Struct, frozen=True):
    request_id: str
    agent_id: str
    microdao_id: str
    logical_model: str
    key_id: str | None = None                 # the API key the call was made with
    key_budget_usd: Decimal | None = None     # that key's monthly budget, if it has one


class Bookkeeper:
    def __init__(
        self, recorder: UsageRecorder, admissions: AdmissionControl, clock: Clock, metrics: GatewayMetrics,
    ) -> None:
        self.health = TargetHealth(clock)
        self._recorder = recorder
        self._admissions = admissions
        self._clock = clock
        self._metrics = metrics
        self._background: set[asyncio.Task[Any]] = set()

    async def settle(
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
        if status == "completed":
            self.health.answered(target.provider, target.model)
        # Recorded first: if the ledger write fails, the reservation stays charged rather than released.
        await self._recorder.record(entry)
        await self._admissions.settle(admission, usage.total_tokens, cost or Decimal(0))
        self._metrics.call_finished(
            call.agent_id, call.logical_model, status, usage.prompt_tokens, usage.completion_tokens, cost
        )

    def attempt_failed(self, target: Target, exc: ProviderError, failures: list[ProviderError]) -> bool:
        """Records a failed attempt; True when the next target may be tried."""
        return attempt_failed(self.health, self._metrics, target, exc, failures)

    async def all_failed(
        self, call: CallContext, targets: list[Target], failures: list[ProviderError], started: float,
        admission: Admission, stream: bool,
    ) -> Exception:
        last = failures[-1]
        target = targets[len(failures) - 1]
        await self.settle(
            LlmCallFailed, call, target, Usage(), None, started, admission,
            stream=stream, status="failed", error_type=last.kind, fallbacks=len(failures) - 1,
        )
        return failure_of(call.logical_model, targets, failures)

    async def stream_broke(
        self, call: CallContext, target: Target, exc: ProviderError, usage: Usage, cost: Decimal | None,
        started: float, admission: Admission, fallbacks: int,
    ) -> Exception:
        self._metrics.provider_error(target.provider, exc.kind)
        # A malformed chunk keeps its own label; any other failure after output began broke the stream.
        error_type = "bad_response" if exc.kind == "bad_response" else "stream_broken"
        await self.settle(
            LlmCallFailed, call, target, usage, cost, started, admission,
            stream=True, status="failed", error_type=error_type, fallbacks=fallbacks,
        )
        return UpstreamFailed(f"upstream '{target.provider}' broke off mid-stream: {exc.message}")

    def stream_cancelled(
        self, call: CallContext, target: Target, usage: Usage, cost: Decimal | None, started: float,
        admission: Admission, fallbacks: int,
    ) -> None:
        """Settles in a task of its own: the request that the client left is being torn down, and the
        ledger write must not be cut off with it."""
        task = asyncio.ensure_future(self.settle(
            LlmCallCancelled, call, target, usage, cost, started, admission,
            stream=True, status="cancelled", error_type="client_disconnected", fallbacks=fallbacks,
        ))
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def attempt_failed(
    health: TargetHealth, metrics: GatewayMetrics, target: Target, exc: ProviderError, failures: list[ProviderError],
) -> bool:
    """Records a failed attempt of any gateway (chat or embeddings); True when the next target may be tried."""
    failures.append(exc)
    health.failed(target.provider, target.model, exc.kind)
    metrics.provider_error(target.provider, exc.kind)
    if exc.may_fall_back:
        metrics.fallback(target.provider)
    return exc.may_fall_back


def failure_of(logical_model: str, targets: list[Target], failures: list[ProviderError]) -> Exception:
    """What the caller hears when no target answered: its own fault (400) when the last target refused the
    request, else the upstreams' (504 when the last timed out, 502 otherwise)."""
    last, target = failures[-1], targets[len(failures) - 1]
    if last.kind == "rejected":
        return InvalidRequest(f"provider '{target.provider}' rejected the request: {last.message}")
    summary = "; ".join(f"{t.provider}/{t.model}: {f.kind}" for t, f in zip(targets, failures, strict=False))
    if last.kind == "timeout":
        return UpstreamTimeout(f"every target of '{logical_model}' failed, the last by timeout ({summary})")
    return UpstreamFailed(f"every target of '{logical_model}' failed ({summary})")
