"""The agent runtime's Prometheus labels stay bounded whatever function names the model invents."""

from __future__ import annotations

import uuid

from prometheus_client import CollectorRegistry

from domain.agents.model import AgentProfile, LlmReply, ToolSettings, TurnContext
from domain.agents.turn import AgentRuntime
from domain.kernel.usage import Usage
from infra.agents.prometheus_metrics import AgentMetrics
from infra.platform.clock import SystemClock
from tests.fakes.agents import FakeMemory, FakeTools, ScriptedLlm, openai_tool, text_reply
from tests.fakes.ledger import FakeRecorder

PROFILE = AgentProfile("agent:sofia", "microdao:7", "Sofia", "You are Sofia.", "m",
                       tools=ToolSettings(max_steps=2, max_calls_per_step=16))
CONTEXT = TurnContext("req-1", "agent:sofia", "microdao:7", "chan", "member:olena")


def tool_series(registry: CollectorRegistry) -> dict[tuple[str, str], float]:
    return {(s.labels["tool_id"], s.labels["status"]): s.value
            for metric in registry.collect() if metric.name == "daarion_agent_tool_calls"
            for s in metric.samples if s.name.endswith("_total")}


async def test_a_model_answering_with_a_thousand_invented_tool_names_leaves_one_unknown_series() -> None:
    names = ["projects__list"] + [f"tool_{uuid.uuid4().hex}" for _ in range(1000)]
    calls = [{"id": f"c{i}", "type": "function", "function": {"name": name, "arguments": "{}"}}
             for i, name in enumerate(names)]
    llm = ScriptedLlm([LlmReply(None, calls, Usage(10, 2)), text_reply("done")])
    registry = CollectorRegistry()
    metrics = AgentMetrics(registry)
    runtime = AgentRuntime(FakeMemory(), FakeTools([openai_tool("projects__list"), openai_tool("tasks__list")]), llm,
                           FakeRecorder(), SystemClock(), on_tools_offered=metrics.tools_offered)

    result = await runtime.turn(PROFILE, CONTEXT, "do everything")
    # What the route reports once the turn is done:
    metrics.turn_finished(PROFILE.id, "completed", 0.1, [(run.tool_id, run.status) for run in result.tool_calls],
                          bool(result.warnings))

    assert len(result.tool_calls) == 1001, "the response and the ledger keep the names the model used"
    assert tool_series(registry) == {("projects.list", "succeeded"): 1.0, ("unknown", "succeeded"): 15.0,
                                     ("unknown", "skipped"): 985.0}


def test_without_any_tool_offered_every_tool_call_counts_as_unknown() -> None:
    registry = CollectorRegistry()
    metrics = AgentMetrics(registry)
    metrics.turn_finished("agent:sofia", "completed", 0.1, [("projects.list", "succeeded"), ("x.y", "weird")], False)
    assert tool_series(registry) == {("unknown", "succeeded"): 1.0, ("unknown", "unknown"): 1.0}
