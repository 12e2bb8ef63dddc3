"""One agent turn: recall -> offer tools -> ask the model -> run its tool calls (bounded) -> reply -> remember.
In grounded mode (grounded_turn) the runtime picks the tools and renders the reply instead of the model.
Either way the reply passes the runtime's grounding check before the turn is remembered (grounding.py).

Degradation rules (each one a warning in the result, never a silent gap):
  memory down or slow   answer without memories; the turn is not stored.
  Toolcore down         answer without tools (listing), or the model reads "unavailable" (a call).
  a tool failing        the model reads the tool's error and answers anyway.
  the LLM proxy failing the turn fails (the caller gets the proxy's error, 502 when it is unreachable);
                        nothing is written to memory and the ledger records the turn as failed.
Every downstream call carries the turn's request id, so the ledger shows the whole turn under one id, and
the turn's credential (the agent's own key, TurnContext.credential), so each service acts as that agent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any

from domain.agents.grounded_render import merged
from domain.agents.grounded_turn import GroundedTurn
from domain.agents.grounded_words import english_query
from domain.agents.model import (
    AgentProfile,
    LlmCall,
    LlmReply,
    MemoriesRecalled,
    Recall,
    ReplyDelta,
    ToolCalled,
    TurnContext,
    TurnDone,
    TurnEvent,
    TurnResult,
)
from domain.agents.prompt import (
    assistant_tool_message,
    build_messages,
    function_name,
    offered_tools,
    tool_message,
)
from domain.agents.tool_step import run_tool_calls
from domain.agents.turn_state import TurnState
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
        on_tools_offered: Callable[[list[str]], None] | None = None,
    ) -> None:
        """`on_tools_offered` hears the tool ids offered to each turn's model (metrics label only those)."""
        self._memory = memory
        self._tools = tools
        self._llm = llm
        self._recorder = recorder
        self._clock = clock
        self._on_tools_offered = on_tools_offered or (lambda tool_ids: None)

    async def turn(self, profile: AgentProfile, context: TurnContext, text: str) -> TurnResult:
        async for event in self.events(profile, context, text, stream=False):
            if isinstance(event, TurnDone):
                return event.result
        raise AssertionError("a turn always ends with TurnDone")

    async def events(
        self, profile: AgentProfile, context: TurnContext, text: str, stream: bool,
    ) -> AsyncGenerator[TurnEvent, None]:
        """The turn as it happens; the last event is TurnDone. With `stream`, reply text comes as deltas."""
        turn = TurnState(self._clock.monotonic())
        recall, tools = await asyncio.gather(self._recall(profile, context, text, turn),
                                             self._offer(profile, context, turn))
        if profile.answer.mode == "grounded" and not turn.memory_down and (across := english_query(text)):
            recall = merged(recall, await self._recall(profile, context, across, turn))
        messages, memory_ids = build_messages(profile, text, recall)
        grounded = GroundedTurn(self._tools, self._llm, self._clock, profile, context, turn)
        if profile.answer.mode == "grounded":
            memory_ids = grounded.memory_ids(text, recall)
        yield MemoriesRecalled(memory_ids)
        try:
            if profile.answer.mode == "grounded":
                async for called in grounded.events(text, tools, recall):
                    yield called
                turn.reply = grounded.reply(text, recall)
                if stream:
                    yield ReplyDelta(turn.reply)
            else:
                async for event in self._free(profile, context, messages, tools, turn, stream):
                    yield event
        except DaarionError:
            await self._record(profile, context, turn, "failed")
            raise
        if not turn.reply.strip():
            turn.warnings.append("the model returned no text")
        if profile.answer.check:
            turn.check_grounding(text, recall, [profile.id, profile.microdao_id, profile.display_name])
        stored = self._remember(profile, context, text, turn.reply, turn)
        await asyncio.gather(stored, self._record(profile, context, turn, "completed"))
        yield TurnDone(turn.result(context, turn.reply, memory_ids, self._clock.monotonic()))

    async def _free(
        self, profile: AgentProfile, context: TurnContext, messages: list[dict[str, Any]],
        tools: list[dict[str, Any]], turn: TurnState, stream: bool,
    ) -> AsyncGenerator[TurnEvent, None]:
        """The model writes the reply, calling tools for up to max_steps rounds first."""
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
                turn.reply = answer.content or ""
                return
            messages.append(assistant_tool_message(answer.content, answer.tool_calls))
            started = self._clock.monotonic()
            runs = await run_tool_calls(self._tools, profile, context, answer.tool_calls, step)
            turn.add_time("tools", self._clock.monotonic() - started)
            for raw_call, (run, result) in zip(answer.tool_calls, runs, strict=True):
                turn.tool_runs.append(run)
                turn.results.append(result)
                messages.append(tool_message(str(raw_call.get("id", "")), result, profile.tools.max_result_chars,
                                             profile.prompt))
                yield ToolCalled(run)

    async def _recall(self, profile: AgentProfile, context: TurnContext, text: str, turn: TurnState) -> Recall:
        settings = profile.memory
        tiers = settings.recalled_tiers()
        if not tiers:
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

    async def _offer(self, profile: AgentProfile, context: TurnContext, turn: TurnState) -> list[dict[str, Any]]:
        if profile.tools.max_steps == 0:
            return []
        started = self._clock.monotonic()
        try:
            offered = offered_tools(await self._tools.available(context), profile.tools.include)
            self._on_tools_offered([tool_id_of(function_name(tool)) for tool in offered])
            return offered
        except DaarionError as exc:
            turn.warnings.append(f"tools unavailable, answered without tools: {exc.message}")
            return []
        finally:
            turn.add_time("tool_list", self._clock.monotonic() - started)

    async def _remember(self, profile: AgentProfile, context: TurnContext, text: str, reply: str, turn: TurnState) -> None:
        if not profile.memory.stores_turns or turn.memory_down or not reply.strip() or not turn.grounded:
            if turn.memory_down:
                turn.warnings.append("this turn was not stored in memory (memory unavailable)")
            elif not turn.grounded and reply.strip():
                turn.warnings.append(f"this turn was not stored in memory (the reply {turn.grounding})")
            return
        started = self._clock.monotonic()
        try:
            # Of a grounded turn only the user's words are stored: the reply restates tool results and memories,
            # and a stale copy of a task list would be recalled (and cited) later as if someone had said it. A
            # metadata flag would not do: recall returns no metadata, and free-mode prompts would still show it.
            await self._memory.remember(context, text, "" if profile.answer.mode == "grounded" else reply)
        except DaarionError as exc:
            turn.warnings.append(f"this turn was not stored in memory: {exc.message}")
        finally:
            turn.add_time("memory_store", self._clock.monotonic() - started)

    async def _record(self, profile: AgentProfile, context: TurnContext, turn: TurnState, status: str) -> None:
        started = self._clock.monotonic()
        await self._recorder.record(new_entry(
            AgentTurnCompleted, request_id=context.request_id, agent_id=profile.id,
            microdao_id=context.microdao_id, channel_id=context.channel_id, steps=turn.llm_calls,
            tools_used=[run.tool_id for run in turn.tool_runs if run.status != ToolCallStatus.SKIPPED],
            prompt_tokens=turn.prompt_tokens, completion_tokens=turn.completion_tokens, cost_usd=turn.cost(),
            latency_ms=round((self._clock.monotonic() - turn.started) * 1000, 3), status=status,
            answer_mode=profile.answer.mode, grounding=turn.grounding,
        ))
        turn.add_time("ledger", self._clock.monotonic() - started)
