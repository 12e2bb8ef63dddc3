"""One agent turn: recall -> offer tools -> ask the model -> run its tool calls (bounded) -> reply -> remember.

Degradation rules (each one a warning in the result, never a silent gap):
  memory down or slow   answer without memories; the turn is not stored.
  Toolcore down         answer without tools (listing), or the model reads "unavailable" (a call).
  a tool failing        the model reads the tool's error and answers anyway.
  the LLM proxy failing the turn fails (the caller gets the proxy's error, 502 when it is unreachable);
                        nothing is written to memory and the ledger records the turn as failed.
Every downstream call carries the turn's request id, so the ledger shows the whole turn under one id.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from domain.agents.model import (
    AgentProfile,
    LlmCall,
    LlmReply,
    MemoriesRecalled,
    Recall,
    ReplyDelta,
    ToolCalled,
    ToolResult,
    ToolRun,
    TurnContext,
    TurnDone,
    TurnEvent,
    TurnResult,
    TurnUsage,
)
from domain.agents.prompt import (
    assistant_tool_message,
    build_messages,
    call_arguments,
    function_name,
    offered_tools,
    tool_message,
)
from domain.kernel.errors import DaarionError
from domain.kernel.tool_calls import ToolCallStatus
from domain.kernel.tool_names import tool_id_of
from domain.ledger.events import AgentTurnCompleted, new_entry

if TYPE_CHECKING:
    from domain.agents.ports import AgentLlm, AgentMemory, AgentTools
    from domain.kernel.clock import Clock
    from domain.ledger.ports import UsageRecorder

MAX_QUERY_CHARS = 2000


class AgentRuntime:
    def __init__(
        self, memory: AgentMemory, tools: AgentTools, llm: AgentLlm, recorder: UsageRecorder, clock: Clock,
    ) -> None:
        self._memory = memory
        self._tools = tools
        self._llm = llm
        self._recorder = recorder
        self._clock = clock

    async def turn(self, profile: AgentProfile, context: TurnContext, text: str) -> TurnResult:
        async for event in self.events(profile, context, text, stream=False):
            if isinstance(event, TurnDone):
                return event.result
        raise AssertionError("a turn always ends with TurnDone")

    async def events(
        self, profile: AgentProfile, context: TurnContext, text: str, stream: bool,
    ) -> AsyncGenerator[TurnEvent, None]:
        """The turn as it happens; the last event is TurnDone. With `stream`, reply text comes as deltas."""
        turn = _Turn(self._clock.monotonic())
        recall, tools = await asyncio.gather(self._recall(profile, context, text, turn),
                                             self._offer(profile, context, turn))
        messages, memory_ids = build_messages(profile, text, recall)
        yield MemoriesRecalled(memory_ids)
        reply = ""
        try:
            for step in range(profile.tools.max_steps + 1):
                last = step == profile.tools.max_steps
                call = LlmCall(profile.model, messages, tools or None, "none" if tools and last else None,
                               profile.max_tokens, profile.temperature)
                started = self._clock.monotonic()
                answer: LlmReply | None = None
                if stream:
                    async for item in self._llm.stream(context, call):
                        if isinstance(item, str):
                            yield ReplyDelta(item)
                        else:
                            answer = item
                else:
                    answer = await self._llm.complete(context, call)
                assert answer is not None, "an LLM stream ends with its reply"
                turn.llm(answer, self._clock.monotonic() - started)
                if not answer.tool_calls or not tools or last:
                    if answer.tool_calls:
                        turn.warnings.append(
                            f"the model still asked for tools after {step} tool steps; stopped there" if tools
                            else "the model asked for tools, but none were offered; not run")
                    reply = answer.content or ""
                    break
                messages.append(assistant_tool_message(answer.content, answer.tool_calls))
                started = self._clock.monotonic()
                runs = await self._run_tools(profile, context, answer.tool_calls, step)
                turn.add_time("tools", self._clock.monotonic() - started)
                for raw_call, (run, result) in zip(answer.tool_calls, runs, strict=True):
                    turn.tool_runs.append(run)
                    messages.append(tool_message(str(raw_call.get("id", "")), result, profile.tools.max_result_chars))
                    yield ToolCalled(run)
        except DaarionError:
            await self._record(profile, context, turn, "failed")
            raise
        if not reply.strip():
            turn.warnings.append("the model returned no text")
        stored = self._remember(profile, context, text, reply, turn)
        await asyncio.gather(stored, self._record(profile, context, turn, "completed"))
        yield TurnDone(turn.result(context, reply, memory_ids, self._clock.monotonic()))

    async def _recall(self, profile: AgentProfile, context: TurnContext, text: str, turn: _Turn) -> Recall:
        settings = profile.memory
        tiers = [t for t in settings.tiers if t != "short" or settings.short_term_turns > 0]
        if not settings.enabled or not tiers:
            return Recall()
        started = self._clock.monotonic()
        try:
            return await self._memory.recall(context, text[:MAX_QUERY_CHARS], tiers, max(settings.limit, 1))
        except DaarionError as exc:
            turn.memory_down = True
            turn.warnings.append(f"memory unavailable, answered without memories: {exc.message}")
            return Recall()
        finally:
            turn.add_time("memory_query", self._clock.monotonic() - started)

    async def _offer(self, profile: AgentProfile, context: TurnContext, turn: _Turn) -> list[dict[str, Any]]:
        if profile.tools.max_steps == 0:
            return []
        started = self._clock.monotonic()
        try:
            return offered_tools(await self._tools.available(context), profile.tools.include)
        except DaarionError as exc:
            turn.warnings.append(f"tools unavailable, answered without tools: {exc.message}")
            return []
        finally:
            turn.add_time("tool_list", self._clock.monotonic() - started)

    async def _run_tools(
        self, profile: AgentProfile, context: TurnContext, calls: list[dict[str, Any]], step: int,
    ) -> list[tuple[ToolRun, ToolResult]]:
        async def run(index: int, call: dict[str, Any]) -> tuple[ToolRun, ToolResult]:
            tool_id = tool_id_of(function_name(call))
            arguments = call_arguments(call)
            if index >= profile.tools.max_calls_per_step:
                result = ToolResult(ToolCallStatus.SKIPPED, error={
                    "type": "too_many_calls",
                    "message": f"at most {profile.tools.max_calls_per_step} tool calls per step; not run"})
            elif arguments is None:
                result = ToolResult(ToolCallStatus.INVALID, error={
                    "type": "invalid_arguments", "message": "the arguments are not a JSON object"})
            else:
                # Toolcore decides: a call to a tool that was not offered still goes there, to be
                # refused and put on the record.
                result = await self._tools.call(context, tool_id, arguments)
            run = ToolRun(tool_id, arguments or {}, result.status, step, result.latency_ms, result.error)
            return run, result

        return list(await asyncio.gather(*(run(i, call) for i, call in enumerate(calls))))

    async def _remember(self, profile: AgentProfile, context: TurnContext, text: str, reply: str, turn: _Turn) -> None:
        settings = profile.memory
        if not (settings.enabled and settings.store_turns) or turn.memory_down or not reply.strip():
            if turn.memory_down:
                turn.warnings.append("this turn was not stored in memory (memory unavailable)")
            return
        started = self._clock.monotonic()
        try:
            await self._memory.remember(context, text, reply)
        except DaarionError as exc:
            turn.warnings.append(f"this turn was not stored in memory: {exc.message}")
        finally:
            turn.add_time("memory_store", self._clock.monotonic() - started)

    async def _record(self, profile: AgentProfile, context: TurnContext, turn: _Turn, status: str) -> None:
        started = self._clock.monotonic()
        await self._recorder.record(new_entry(
            AgentTurnCompleted, request_id=context.request_id, agent_id=profile.id,
            microdao_id=context.microdao_id, channel_id=context.channel_id, steps=turn.llm_calls,
            tools_used=[run.tool_id for run in turn.tool_runs if run.status != ToolCallStatus.SKIPPED],
            prompt_tokens=turn.prompt_tokens, completion_tokens=turn.completion_tokens, cost_usd=turn.cost(),
            latency_ms=round((self._clock.monotonic() - turn.started) * 1000, 3), status=status,
        ))
        turn.add_time("ledger", self._clock.monotonic() - started)


class _Turn:
    """What a turn has accumulated so far: usage, tool runs, warnings and where the time went."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.llm_calls = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.costs: list[Decimal | None] = []
        self.tool_runs: list[ToolRun] = []
        self.warnings: list[str] = []
        self.memory_down = False
        self.timings: dict[str, float] = {}

    def llm(self, answer: LlmReply, seconds: float) -> None:
        self.llm_calls += 1
        self.prompt_tokens += answer.usage.prompt_tokens
        self.completion_tokens += answer.usage.completion_tokens
        self.costs.append(answer.cost_usd)
        self.add_time("llm", seconds)

    def add_time(self, phase: str, seconds: float) -> None:
        self.timings[phase] = self.timings.get(phase, 0.0) + seconds * 1000

    def cost(self) -> Decimal | None:
        if any(cost is None for cost in self.costs):
            return None
        return sum((cost for cost in self.costs if cost is not None), Decimal(0))

    def result(self, context: TurnContext, reply: str, memory_ids: list[str], now: float) -> TurnResult:
        usage = TurnUsage(self.prompt_tokens, self.completion_tokens, self.prompt_tokens + self.completion_tokens,
                          self.cost(), self.llm_calls)
        timings = {phase: round(ms, 3) for phase, ms in self.timings.items()}
        timings["total"] = round((now - self.started) * 1000, 3)
        return TurnResult(reply, list(self.tool_runs), memory_ids, usage, context.request_id, list(self.warnings),
                          self.llm_calls, timings)
