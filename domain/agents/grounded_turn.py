"""A turn in grounded mode (AnswerSettings.mode == "grounded"): for small local models.

  a route matches the question   its tools run, arguments filled by the runtime (grounded_plan)
  else a memory is relevant      it is cited
  else (model_decides)           the model decides through its grammar, one step, on a compact prompt (its
                                 system prompt and the question: no history, no memories), and writes no text
then the runtime renders the reply from those results in the question's language (grounded_render). A turn
of this kind usually costs no LLM call at all, which is what makes seconds possible on two CPU cores.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from domain.agents.grounded_plan import calls_for, offered_by_id, route_for
from domain.agents.grounded_render import Call, cited_memory, render
from domain.agents.language import language_of
from domain.agents.model import AgentProfile, LlmCall, Recall, ToolCalled, ToolRun, TurnContext
from domain.agents.tool_step import run_tool_calls
from domain.kernel.tool_names import tool_id_of

if TYPE_CHECKING:
    from domain.agents.ports import AgentLlm, AgentTools
    from domain.agents.turn_state import TurnState
    from domain.kernel.clock import Clock


class GroundedTurn:
    def __init__(self, tools: AgentTools, llm: AgentLlm, clock: Clock, profile: AgentProfile,
                 context: TurnContext, turn: TurnState) -> None:
        self._tools, self._llm, self._clock = tools, llm, clock
        self._profile, self._context, self._turn = profile, context, turn
        self.calls: list[Call] = []
        self.missing: list[tuple[str, list[str]]] = []

    async def events(self, text: str, offered: list[dict[str, Any]], recall: Recall) -> AsyncGenerator[ToolCalled, None]:
        route = route_for(self._profile.answer, text)
        if route is not None:
            by_id = offered_by_id(offered)
            for step, tool_id in enumerate(t for t in route.tools if t in by_id):
                results = [(tid, result.result) for tid, _, result in self.calls if result.error is None]
                arguments, missing = calls_for(tool_id, text, by_id[tool_id], results)
                if missing:
                    self.missing.append((tool_id, missing))
                for args in arguments[: self._profile.tools.max_calls_per_step]:
                    yield await self._call(tool_id, args, step)
        elif offered and self._profile.answer.model_decides and not self._relevant(text, recall):
            async for event in self._model_decides(text, offered):
                yield event

    def memory_ids(self, text: str, recall: Recall) -> list[str]:
        """The memory the reply will cite (none when a route answers): all the prompt-free turn uses."""
        memory = None if route_for(self._profile.answer, text) else cited_memory(self._profile, text, recall.memories)
        return [memory.id] if memory else []

    def reply(self, text: str, recall: Recall) -> str:
        return render(self._profile, text, language_of(text), self.calls, self.missing, recall.memories)

    def _relevant(self, text: str, recall: Recall) -> bool:
        return cited_memory(self._profile, text, recall.memories) is not None

    async def _call(self, tool_id: str, arguments: dict[str, Any], step: int) -> ToolCalled:
        started = self._clock.monotonic()
        result = await self._tools.call(self._context, tool_id, arguments)
        self._turn.add_time("tools", self._clock.monotonic() - started)
        run = ToolRun(tool_id, arguments, result.status, step, result.latency_ms, result.error)
        self._turn.tool_runs.append(run)
        self._turn.results.append(result)
        self.calls.append((tool_id, arguments, result))
        return ToolCalled(run)

    async def _model_decides(self, text: str, offered: list[dict[str, Any]]) -> AsyncGenerator[ToolCalled, None]:
        system = (self._profile.prompt.system_prompt or self._profile.system_prompt).strip()
        messages = [{"role": "system", "content": system}, {"role": "user", "content": text}]
        # One token of text at most: the runtime writes the reply, so the model's text is never used.
        call = LlmCall(self._profile.model, messages, offered, None, 1, 0.0)
        started = self._clock.monotonic()
        answer = await self._llm.complete(self._context, call)
        self._turn.llm(answer, self._clock.monotonic() - started)
        if not answer.tool_calls:
            return
        started = self._clock.monotonic()
        runs = await run_tool_calls(self._tools, self._profile, self._context, answer.tool_calls, 0)
        self._turn.add_time("tools", self._clock.monotonic() - started)
        for raw, (run, result) in zip(answer.tool_calls, runs, strict=True):
            self._turn.tool_runs.append(run)
            self._turn.results.append(result)
            self.calls.append((tool_id_of(str((raw.get("function") or {}).get("name", ""))), run.arguments, result))
            yield ToolCalled(run)
