"""Embeddings through the gateway: the same routing, fallback, rate limits, budgets and ledger as chat.

A logical embeddings model names ordered physical targets (the in-process MiniLM, OpenAI, an OpenAI-compatible
server, Ollama). A call reserves its worst case at admission (every input's UTF-8 bytes as tokens, at the
dearest target's input price), tries the targets in order on failures that may fall back, and ends in exactly
one EmbeddingsCompleted or EmbeddingsFailed event, after which the reservation is settled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import msgspec

from domain.kernel.clock import Clock
from domain.kernel.errors import InvalidRequest
from domain.kernel.usage import Usage
from domain.ledger.events import EmbeddingsCompleted, EmbeddingsFailed, EmbeddingsRecorded, new_entry
from domain.ledger.ports import UsageRecorder
from domain.llm.admission import Admission, Quota, Ticket, budget_lines
from domain.llm.bookkeeping import CallContext, attempt_failed, failure_of
from domain.llm.health import TargetHealth
from domain.llm.policies import BudgetPolicy, LimitPolicy, PriceTable, ProviderError, Router, Target
from domain.llm.ports import AdmissionControl, EmbeddingProvider, GatewayMetrics


class Embeddings(msgspec.Struct, frozen=True):
    vectors: list[list[float]]
    prompt_tokens: int
    provider: str
    physical_model: str
    cost_usd: Decimal | None
    quota: Quota = Quota()


class EmbeddingsGateway:
    def __init__(
        self, router: Router, providers: Mapping[str, EmbeddingProvider], prices: PriceTable, limits: LimitPolicy,
        budgets: BudgetPolicy, admissions: AdmissionControl, recorder: UsageRecorder, clock: Clock,
        metrics: GatewayMetrics, health: TargetHealth,
    ) -> None:
        self._router = router
        self._providers = providers
        self._prices = prices
        self._limits = limits
        self._budgets = budgets
        self._admissions = admissions
        self._recorder = recorder
        self._clock = clock
        self._metrics = metrics
        self._health = health

    @property
    def router(self) -> Router:
        return self._router

    async def embed(self, call: CallContext, texts: Sequence[str], dimensions: int | None = None) -> Embeddings:
        targets = self._router.targets_for(call.logical_model)
        bound = sum(len(text.encode()) for text in texts) + len(texts)  # no tokenizer makes more tokens than bytes
        limit = self._limits.for_agent(call.agent_id)
        if bound > limit.tokens_per_minute:
            raise InvalidRequest(f"the input is up to {bound} tokens, more than the {limit.tokens_per_minute} "
                                 f"tokens/min allowed for {call.agent_id}; send fewer or shorter texts", param="input")
        budgets = budget_lines(self._budgets, call.agent_id, call.microdao_id, call.key_id, call.key_budget_usd)
        worst = self._prices.worst_cost(targets, Usage(bound, 0)) if budgets else Decimal(0)
        admission = await self._admissions.admit(Ticket(call.agent_id, call.microdao_id, limit, bound, worst, budgets))
        started = self._clock.monotonic()
        failures: list[ProviderError] = []
        for target in targets:
            try:
                result = await self._providers[target.provider].embed(target.model, list(texts), dimensions,
                                                                      target.timeout_s)
            except ProviderError as exc:
                if attempt_failed(self._health, self._metrics, target, exc, failures):
                    continue
                break
            self._health.answered(target.provider, target.model)
            tokens = result.prompt_tokens if result.prompt_tokens is not None else bound
            cost = self._prices.cost(target.model, Usage(tokens, 0))
            dims = len(result.vectors[0]) if result.vectors else 0
            await self._settle(EmbeddingsCompleted, call, target, len(texts), tokens, dims, cost, started, admission,
                               None, len(failures))
            return Embeddings(result.vectors, tokens, target.provider, target.model, cost, admission.quota)
        last, target = failures[-1], targets[len(failures) - 1]
        await self._settle(EmbeddingsFailed, call, target, len(texts), 0, 0, None, started, admission, last.kind,
                           len(failures) - 1)
        raise failure_of(call.logical_model, targets, failures)

    async def _settle(
        self, event_class: type[EmbeddingsRecorded], call: CallContext, target: Target, inputs: int, tokens: int,
        dimensions: int, cost: Decimal | None, started: float, admission: Admission, error_type: str | None,
        fallbacks: int,
    ) -> None:
        status = "failed" if error_type else "completed"
        await self._recorder.record(new_entry(
            event_class, request_id=call.request_id, agent_id=call.agent_id, microdao_id=call.microdao_id,
            logical_model=call.logical_model, provider=target.provider, physical_model=target.model, inputs=inputs,
            prompt_tokens=tokens, dimensions=dimensions, latency_ms=round((self._clock.monotonic() - started) * 1000, 3),
            cost_usd=cost, cost_known=cost is not None, status=status, error_type=error_type, fallbacks=fallbacks,
            key_id=call.key_id,
        ))
        await self._admissions.settle(admission, tokens, cost or Decimal(0))
        self._metrics.call_finished(call.agent_id, call.logical_model, status, tokens, 0, cost)
