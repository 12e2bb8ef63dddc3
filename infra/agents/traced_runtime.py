"""The agent runtime seen through OpenTelemetry: each turn is one GenAI `invoke_agent {agent}` span.

The turn's calls to memory, Toolcore and the proxy are its children (the HTTP client spans, which carry the trace
on in `traceparent`), so one turn is one trace across the services. On the span: the agent, its model, the channel
as the conversation, and when the turn is done its tokens and cost (the figures of its AgentTurnCompleted
ledger entry). The user's text and the reply are not recorded.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Protocol

from opentelemetry.trace import Tracer

from domain.agents.model import AgentProfile, TurnContext, TurnDone, TurnEvent, TurnResult
from infra.platform import gen_ai
from infra.platform.tracing import made_in


class AgentTurns(Protocol):
    """What the runtime's routes ask of the turn use case (domain.agents.turn.AgentRuntime), traced or not."""

    async def turn(self, profile: AgentProfile, context: TurnContext, text: str) -> TurnResult: ...

    def events(
        self, profile: AgentProfile, context: TurnContext, text: str, stream: bool,
    ) -> AsyncGenerator[TurnEvent, None]: ...


class TracedAgentRuntime:
    def __init__(self, inner: AgentTurns, tracer: Tracer) -> None:
        self._inner = inner
        self._tracer = tracer

    async def turn(self, profile: AgentProfile, context: TurnContext, text: str) -> TurnResult:
        events = self.events(profile, context, text, stream=False)
        try:
            async for event in events:
                if isinstance(event, TurnDone):
                    return event.result
        finally:
            await events.aclose()
        raise AssertionError("a turn always ends with TurnDone")

    async def events(
        self, profile: AgentProfile, context: TurnContext, text: str, stream: bool,
    ) -> AsyncGenerator[TurnEvent, None]:
        span = self._tracer.start_span(f"invoke_agent {profile.display_name}", attributes={
            gen_ai.OPERATION: "invoke_agent", gen_ai.AGENT_ID: profile.id, gen_ai.AGENT_NAME: profile.display_name,
            gen_ai.REQUEST_MODEL: profile.model, gen_ai.CONVERSATION_ID: context.channel_id,
            "daarion.microdao_id": context.microdao_id, "daarion.request_id": context.request_id,
        })
        # The turn's calls start while its span is current (gather's tasks copy it); a DaarionError's type is the
        # span's error.type.
        async with aclosing(made_in(span, self._inner.events(profile, context, text, stream))) as events:
            async for event in events:
                if isinstance(event, TurnDone):
                    usage = event.result.usage
                    span.set_attributes(gen_ai.usage_attributes(usage.prompt_tokens, usage.completion_tokens,
                                                                usage.cost_usd))
                    span.set_attribute("daarion.agent.llm_calls", usage.llm_calls)
                    span.set_attribute("daarion.agent.tool_calls", len(event.result.tool_calls))
                yield event
