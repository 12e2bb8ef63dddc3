"""What a turn has accumulated while it runs, and the TurnResult it adds up to."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal

from domain.agents.grounding import grounding_problems
from domain.agents.language import language_of
from domain.agents.model import LlmReply, Recall, ToolResult, ToolRun, TurnContext, TurnResult, TurnUsage


class TurnState:
    """What a turn has accumulated so far: usage, tool runs, warnings and where the time went."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.llm_calls = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.costs: list[Decimal | None] = []
        self.tool_runs: list[ToolRun] = []
        self.results: list[ToolResult] = []
        self.reply = ""
        self.grounding = ""  # "passed" or "failed: <why>"; "" when not checked
        self.warnings: list[str] = []
        self.memory_down = False
        self.timings: dict[str, float] = {}

    def llm(self, answer: LlmReply, seconds: float) -> None:
        self.llm_calls += 1
        self.prompt_tokens += answer.usage.prompt_tokens
        self.completion_tokens += answer.usage.completion_tokens
        self.costs.append(answer.cost_usd)
        self.add_time("llm", seconds)

    def check_grounding(self, question: str, recall: Recall, known: Sequence[str]) -> None:
        """Against everything this turn was told: tool results, memories, the question, who is speaking."""
        sources = [question, *known, *(f"{m.created_at or ''} {m.text}" for m in recall.memories)]
        sources += [f"{t.user_message} {t.agent_reply} {t.text}" for t in recall.short_term]
        sources += [json.dumps(r.result if r.error is None else r.error, ensure_ascii=False, default=str)
                    for r in self.results]
        problems = grounding_problems(self.reply, language_of(question), sources)
        self.grounding = "failed: " + "; ".join(problems) if problems else "passed"
        if problems:
            self.warnings.append(f"the reply failed the grounding check: {'; '.join(problems)}")

    @property
    def grounded(self) -> bool:
        return not self.grounding.startswith("failed")

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
                          self.llm_calls, timings, self.grounding)
