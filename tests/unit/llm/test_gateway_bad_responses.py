"""How the gateway books a provider that answers garbage: fall back while it can, else a failed call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest
from prometheus_client import CollectorRegistry

from domain.kernel.errors import UpstreamFailed
from domain.ledger.events import LlmCallCompleted, LlmCallFailed
from domain.llm.bookkeeping import CallContext
from domain.llm.gateway import LlmGateway, StreamSummary
from domain.llm.policies import (
    BudgetPolicy,
    ChatChunk,
    ChatRequest,
    ChatResult,
    LimitPolicy,
    PriceTable,
    ProviderError,
    RateLimit,
    Router,
    Target,
)
from infra.llm.prometheus_metrics import ProxyMetrics
from infra.llm.providers.stub import StubProvider
from tests.fakes.clock import FakeClock
from tests.fakes.ledger import FakeRecorder
from tests.fakes.llm import InMemoryAdmissionControl

REQUEST = ChatRequest(messages=[{"role": "user", "content": "hello"}])


class Garbled:
    """Answers `chunks_first` good chunks, then fails with `failure` (a malformed answer, or a bug's error)."""

    name = "garbled"

    def __init__(self, failure: Exception, chunks_first: int = 0) -> None:
        self.failure = failure
        self.chunks_first = chunks_first

    async def complete(self, model: str, request: ChatRequest, timeout_s: float) -> ChatResult:
        raise self.failure

    async def stream(self, model: str, request: ChatRequest, timeout_s: float) -> AsyncGenerator[ChatChunk, None]:
        for index in range(self.chunks_first):
            yield ChatChunk({"content": f"word{index} "})
        raise self.failure

    async def aclose(self) -> None:
        return None


def gateway(provider: Garbled) -> tuple[LlmGateway, FakeRecorder]:
    admissions, recorder = InMemoryAdmissionControl(FakeClock()), FakeRecorder()
    routes = {"alone": [Target("garbled", "g")], "then-stub": [Target("garbled", "g"), Target("stub", "s")]}
    return LlmGateway(
        Router(routes), {"garbled": provider, "stub": StubProvider()}, PriceTable({}),
        LimitPolicy(RateLimit(), {}), BudgetPolicy({}, {}), admissions, recorder, admissions.clock,
        ProxyMetrics(CollectorRegistry()),
    ), recorder


def call(model: str) -> CallContext:
    return CallContext("req-1", "agent:a", "microdao:m", model)


BAD = ProviderError("bad_response", "garbled sent a malformed completion")


async def test_a_bad_response_falls_back_to_the_next_target() -> None:
    llm, recorder = gateway(Garbled(BAD))
    completion = await llm.complete(call("then-stub"), REQUEST)
    [event] = recorder.events
    assert completion.provider == "stub" and isinstance(event, LlmCallCompleted) and event.fallbacks == 1


async def test_a_bad_response_from_the_last_target_is_one_failed_call_of_that_kind() -> None:
    llm, recorder = gateway(Garbled(BAD))
    with pytest.raises(UpstreamFailed, match="garbled/g: bad_response"):
        await llm.complete(call("alone"), REQUEST)
    [event] = recorder.events
    assert isinstance(event, LlmCallFailed) and (event.error_type, event.stream) == ("bad_response", False)


async def test_a_stream_whose_first_chunk_is_malformed_falls_back() -> None:
    llm, recorder = gateway(Garbled(BAD))
    summary = StreamSummary()
    chunks = [chunk async for chunk in llm.stream(call("then-stub"), REQUEST, summary)]
    [event] = recorder.events
    assert summary.provider == "stub" and chunks[-1].usage is not None
    assert isinstance(event, LlmCallCompleted) and event.fallbacks == 1


@pytest.mark.parametrize("failure, error_type", [
    (BAD, "bad_response"),
    (ProviderError("stream_broken", "connection reset"), "stream_broken"),
    (AttributeError("'list' object has no attribute 'get'"), "bad_response"),
])
async def test_a_stream_that_fails_after_its_first_delta_is_a_failed_call_never_a_cancelled_one(
    failure: Exception, error_type: str,
) -> None:
    llm, recorder = gateway(Garbled(failure, chunks_first=2))
    received: list[ChatChunk] = []
    with pytest.raises(UpstreamFailed, match="broke off mid-stream"):
        async for chunk in llm.stream(call("then-stub"), REQUEST, StreamSummary()):
            received.append(chunk)
    await asyncio.sleep(0)  # a cancellation would be booked by a task of its own
    [event] = recorder.events
    assert len(received) == 2 and isinstance(event, LlmCallFailed)
    assert (event.status, event.error_type, event.provider, event.fallbacks) == ("failed", error_type, "garbled", 0)
    assert event.completion_tokens > 0
