"""What the gateway reserves for a call, what it asks the provider for, and what a call ends up costing."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from prometheus_client import CollectorRegistry

from domain.kernel.errors import InvalidRequest, UpstreamFailed
from domain.kernel.usage import Usage
from domain.llm.admission import Admission, BudgetLine, OverBudget, Ticket
from domain.llm.bookkeeping import CallContext
from domain.llm.gateway import LlmGateway, StreamSummary
from domain.llm.policies import (
    BudgetPolicy,
    ChatChunk,
    ChatRequest,
    ChatResult,
    LimitPolicy,
    Price,
    PriceTable,
    ProviderError,
    RateLimit,
    Router,
    Target,
    estimate_prompt_tokens,
    prompt_token_bound,
)
from infra.llm.prometheus_metrics import ProxyMetrics
from infra.llm.providers.stub import StubProvider
from tests.fakes.agents import RecordingProvider
from tests.fakes.clock import FakeClock
from tests.fakes.ledger import FakeRecorder
from tests.fakes.llm import InMemoryAdmissionControl

CHEAP, DEAR = Price(Decimal(1), Decimal(2)), Price(Decimal(10), Decimal(100))
REQUEST = ChatRequest(messages=[{"role": "user", "content": "Привіт, how are you?"}])


class WatchedAdmissions(InMemoryAdmissionControl):
    def __init__(self) -> None:
        super().__init__(FakeClock())
        self.tickets: list[Ticket] = []

    async def admit(self, ticket: Ticket) -> Admission:
        self.tickets.append(ticket)
        return await super().admit(ticket)


class BreaksMidStream:
    """Says two words, then its connection breaks."""

    name = "breaking"

    async def complete(self, model: str, request: ChatRequest, timeout_s: float) -> ChatResult:
        raise ProviderError("server_error", "down", 500)

    async def stream(self, model: str, request: ChatRequest, timeout_s: float) -> AsyncGenerator[ChatChunk, None]:
        yield ChatChunk({"content": "twelve chars"})
        yield ChatChunk({"content": " more"})
        raise ProviderError("stream_broken", "connection reset")

    async def aclose(self) -> None:
        return None


@dataclass
class World:
    gateway: LlmGateway
    admissions: WatchedAdmissions
    provider: RecordingProvider
    recorder: FakeRecorder

    def spend(self, scope: str, subject: str) -> tuple[Decimal, Decimal]:
        return self.admissions.spend[(scope, subject, self.admissions.clock.now().date().replace(day=1))]


def world(limits: dict[str, RateLimit] | None = None, agent_budget: str = "1", failing: bool = False,
          budgets: BudgetPolicy | None = None) -> World:
    provider = RecordingProvider(StubProvider(), ProviderError("server_error", "down", 500) if failing else None)
    admissions, recorder = WatchedAdmissions(), FakeRecorder()
    gateway = LlmGateway(
        Router({"stub": [Target("stub", "cheap")], "pair": [Target("stub", "cheap"), Target("stub", "dear")],
                "breaks": [Target("breaking", "cheap")]}),
        {"stub": provider, "breaking": BreaksMidStream()}, PriceTable({"cheap": CHEAP, "dear": DEAR}),
        LimitPolicy(RateLimit(max_tokens=4096), limits or {}),
        budgets or BudgetPolicy({"agent:a": Decimal(agent_budget)}, {"microdao:m": Decimal(10)}),
        admissions, recorder, admissions.clock, ProxyMetrics(CollectorRegistry()), default_max_tokens=1024,
    )
    return World(gateway, admissions, provider, recorder)


def call(model: str = "stub", key_budget: str | None = None) -> CallContext:
    return CallContext("req-1", "agent:a", "microdao:m", model, key_id="key-1" if key_budget else None,
                       key_budget_usd=Decimal(key_budget) if key_budget else None)


async def test_a_request_without_max_tokens_asks_the_provider_for_the_default_within_the_agent_s_cap() -> None:
    capped = world({"agent:a": RateLimit(max_tokens=256)})
    await capped.gateway.complete(call(), REQUEST)
    assert capped.provider.requests[-1].max_tokens == 256
    default = world()
    await default.gateway.complete(call(), REQUEST)
    assert default.provider.requests[-1].max_tokens == 1024


async def test_a_request_above_the_agent_s_cap_is_refused_before_anything_is_reserved() -> None:
    w = world({"agent:a": RateLimit(max_tokens=256)})
    with pytest.raises(InvalidRequest, match="max_tokens 1000000 is above the cap of 256 for agent:a"):
        await w.gateway.complete(call(), ChatRequest(REQUEST.messages, max_tokens=1_000_000))
    assert w.admissions.tickets == [] and w.provider.requests == []


async def test_the_reservation_is_the_prompt_bound_and_max_tokens_at_the_dearest_target_s_prices() -> None:
    w = world()
    completion = await w.gateway.complete(call("pair"), ChatRequest(REQUEST.messages, max_tokens=100))
    bound = prompt_token_bound(REQUEST)
    assert bound >= len("Привіт, how are you?".encode()), "bytes, not characters"
    (ticket,) = w.admissions.tickets
    assert ticket.cost_usd == (Decimal(10) * bound + Decimal(100) * 100) / 1_000_000
    assert completion.cost_usd is not None and completion.cost_usd < ticket.cost_usd
    assert w.spend("agent", "agent:a") == (completion.cost_usd, 0), "settled to the real cost, nothing left reserved"


async def test_each_budget_that_applies_is_a_line_of_the_ticket_and_the_smallest_left_is_reported() -> None:
    w = world()
    completion = await w.gateway.complete(call(key_budget="0.5"), REQUEST)
    (ticket,) = w.admissions.tickets
    assert ticket.budgets == (BudgetLine("agent", "agent:a", Decimal(1)), BudgetLine("key", "key-1", Decimal("0.5")),
                              BudgetLine("microdao", "microdao:m", Decimal(10)))
    assert completion.quota.budget_left_usd == Decimal("0.5") - ticket.cost_usd
    assert completion.quota.rate is not None and completion.quota.rate.remaining_requests == 599


async def test_without_a_budget_nothing_is_priced_at_admission_and_no_budget_is_reported() -> None:
    w = world(budgets=BudgetPolicy({}, {}))
    completion = await w.gateway.complete(call(), REQUEST)
    assert w.admissions.tickets[0].cost_usd == 0 and w.admissions.tickets[0].budgets == ()
    assert completion.quota.budget_left_usd is None


async def test_a_call_that_fails_everywhere_gives_its_whole_reservation_back() -> None:
    w = world(failing=True)
    with pytest.raises(UpstreamFailed):
        await w.gateway.complete(call(), REQUEST)
    assert w.spend("agent", "agent:a") == (0, 0)
    window = int(w.admissions.clock.now().timestamp()) // 60 * 60
    assert w.admissions.windows[("agent:a", window)] == (1, 0), "the request counts, its tokens are given back"


async def test_a_stream_that_breaks_mid_way_costs_what_was_streamed() -> None:
    w = world()
    chunks = w.gateway.stream(call("breaks"), REQUEST, StreamSummary())
    with pytest.raises(UpstreamFailed):
        async for _ in chunks:
            pass
    so_far = Usage(estimate_prompt_tokens(REQUEST), (len("twelve chars more") + 3) // 4)
    assert w.spend("agent", "agent:a") == (PriceTable({"cheap": CHEAP}).cost("cheap", so_far), 0)


async def test_a_call_over_budget_never_reaches_the_provider() -> None:
    w = world(agent_budget="0.0001")
    with pytest.raises(OverBudget, match="agent agent:a"):
        await w.gateway.complete(call(), REQUEST)
    assert w.provider.requests == [] and w.recorder.entries == []

