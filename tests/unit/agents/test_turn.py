"""The turn orchestration of domain/agents/turn.py against fakes of memory, Toolcore and the LLM proxy."""

from __future__ import annotations

import json
from decimal import Decimal

import msgspec
import pytest

from domain.agents.model import (
    AgentProfile,
    AnswerSettings,
    MemorySettings,
    PromptSettings,
    Recall,
    RecalledMemory,
    RecalledTurn,
    ReplyDelta,
    Route,
    ToolResult,
    ToolSettings,
    TurnContext,
    TurnDone,
)
from domain.agents.prompt import build_messages, offered_tools, tool_message
from domain.agents.prompt_compact import within_budget
from domain.agents.turn import AgentRuntime
from domain.kernel.errors import UpstreamFailed
from domain.kernel.tool_calls import ToolCallStatus
from domain.ledger.events import AgentTurnCompleted
from infra.platform.clock import SystemClock
from tests.fakes.agents import (
    FakeMemory,
    FakeTools,
    ScriptedLlm,
    openai_tool,
    text_reply,
    tool_call_reply,
)
from tests.fakes.ledger import FakeRecorder

PROFILE = AgentProfile("agent:sofia", "microdao:7", "Sofia", "You are Sofia.", "m",
                       tools=ToolSettings(max_steps=4, max_calls_per_step=2))
CONTEXT = TurnContext("req-1", "agent:sofia", "microdao:7", "chan", "member:olena")
TOOLS = [openai_tool("projects__list"), openai_tool("tasks__list")]


def runtime(llm: ScriptedLlm, memory: FakeMemory | None = None, tools: FakeTools | None = None,
            ) -> tuple[AgentRuntime, FakeRecorder]:
    recorder = FakeRecorder()
    return AgentRuntime(memory or FakeMemory(), tools or FakeTools(TOOLS), llm, recorder, SystemClock()), recorder


async def test_a_model_that_keeps_asking_for_tools_is_stopped_after_max_steps_and_told_to_answer() -> None:
    llm = ScriptedLlm([tool_call_reply("projects__list")])
    agent, recorder = runtime(llm)

    result = await agent.turn(PROFILE, CONTEXT, "loop forever")

    assert len(llm.calls) == 5 and len(result.tool_calls) == 4
    assert [c.tool_choice for c in llm.calls] == [None, None, None, None, "none"]
    assert "still asked for tools after 4 tool steps" in result.warnings[0]
    [entry] = recorder.entries
    event = entry.pending_events[0]
    assert isinstance(event, AgentTurnCompleted) and (event.steps, event.status) == (5, "completed")


async def test_calls_beyond_the_per_step_limit_are_skipped_and_the_model_reads_why() -> None:
    three = tool_call_reply("projects__list")
    assert three.tool_calls is not None
    calls = [{**three.tool_calls[0], "id": f"c{i}"} for i in range(3)]
    llm = ScriptedLlm([msgspec.structs.replace(three, tool_calls=calls), text_reply("done")])
    tools = FakeTools(TOOLS)
    agent, _ = runtime(llm, tools=tools)

    result = await agent.turn(PROFILE, CONTEXT, "three at once")

    assert [run.status for run in result.tool_calls] == ["succeeded", "succeeded", "skipped"]
    assert len(tools.calls) == 2
    answered = [m for m in llm.calls[1].messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in answered] == ["c0", "c1", "c2"] and "too_many_calls" in answered[2]["content"]


async def test_arguments_that_are_not_a_json_object_never_reach_toolcore() -> None:
    llm = ScriptedLlm([tool_call_reply("tasks__list", "{not json"), text_reply("sorry")])
    tools = FakeTools(TOOLS)
    agent, _ = runtime(llm, tools=tools)

    result = await agent.turn(PROFILE, CONTEXT, "tasks?")

    assert tools.calls == []
    assert (result.tool_calls[0].tool_id, result.tool_calls[0].status) == ("tasks.list", "invalid")


async def test_a_tool_error_is_handed_to_the_model_and_the_turn_completes() -> None:
    failure = ToolResult(ToolCallStatus.FAILED, 3.0, error={"type": "timeout", "message": "no answer within 5s"})
    llm = ScriptedLlm([tool_call_reply("tasks__list", '{"project_id": "p"}'), text_reply("the tool timed out")])
    agent, _ = runtime(llm, tools=FakeTools(TOOLS, {"tasks.list": failure}))

    result = await agent.turn(PROFILE, CONTEXT, "tasks?")

    assert result.reply == "the tool timed out" and result.tool_calls[0].error == failure.error
    assert '"timeout"' in llm.calls[1].messages[-1]["content"]


async def test_the_turn_cost_is_unknown_when_any_llm_call_had_no_known_price() -> None:
    priced = ScriptedLlm([tool_call_reply("projects__list"), text_reply("ok")])
    agent, _ = runtime(priced)
    assert (await agent.turn(PROFILE, CONTEXT, "x")).usage.cost_usd == Decimal("0.003")

    unpriced = ScriptedLlm([tool_call_reply("projects__list", cost=None), text_reply("ok")])
    agent, _ = runtime(unpriced)
    assert (await agent.turn(PROFILE, CONTEXT, "x")).usage.cost_usd is None


async def test_with_memory_down_the_turn_has_no_memories_is_not_stored_and_warns_twice() -> None:
    memory = FakeMemory(down=True)
    agent, _ = runtime(ScriptedLlm([text_reply("hello")]), memory=memory)

    result = await agent.turn(PROFILE, CONTEXT, "hi")

    assert result.reply == "hello" and result.memories_used == [] and memory.stored == []
    assert [w.split(",")[0] for w in result.warnings] == ["memory unavailable",
                                                          "this turn was not stored in memory (memory unavailable)"]


async def test_an_llm_failure_records_a_failed_turn_and_stores_nothing() -> None:
    memory = FakeMemory()
    agent, recorder = runtime(ScriptedLlm([], fail=True), memory=memory)

    with pytest.raises(UpstreamFailed):
        await agent.turn(PROFILE, CONTEXT, "hi")

    assert memory.stored == []
    assert recorder.entries[0].pending_events[0].status == "failed"


async def test_a_streamed_turn_yields_the_reply_in_pieces_and_ends_with_the_whole_result() -> None:
    agent, _ = runtime(ScriptedLlm([text_reply("one two three")]))
    events = [e async for e in agent.events(PROFILE, CONTEXT, "count", stream=True)]
    deltas = [e.text for e in events if isinstance(e, ReplyDelta)]
    assert len(deltas) == 3 and "".join(deltas).strip() == "one two three"
    assert isinstance(events[-1], TurnDone)


def test_memories_go_to_the_system_message_and_the_channels_turns_become_chat_history() -> None:
    profile = AgentProfile("a", "m", "A", "Be kind.", "m", memory=MemorySettings(limit=2, short_term_turns=1,
                                                                                   min_score=0.1, max_chars=60))
    recall = Recall(
        short_term=[RecalledTurn("t1", "old question", "old answer"), RecalledTurn("t2", "hi", "hello")],
        memories=[RecalledMemory("t2", "mid", "conversation", "hi hello", 0.9),
                  RecalledMemory("m1", "mid", "fact", "x" * 100, 0.8, "2026-11-20T10:00:00Z"),
                  RecalledMemory("m2", "long", "document", "too weak", 0.05),
                  RecalledMemory("m3", "long", "document", "third", 0.5),
                  RecalledMemory("m4", "mid", "fact", "over the limit", 0.4)],
    )

    messages, used = build_messages(profile, "now?", recall)

    assert used == ["t2", "m1", "m3"]
    assert messages[1:] == [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
                            {"role": "user", "content": "now?"}]
    system = messages[0]["content"]
    assert system.startswith("Be kind.\n\nRelevant memories")
    assert "- [mid-term fact, 2026-11-20] " + "x" * 59 + "…" in system and "too weak" not in system


def test_only_the_tools_matching_the_profiles_globs_are_offered() -> None:
    available = [openai_tool("projects__list"), openai_tool("task__create"), openai_tool("time__now")]
    assert [t["function"]["name"] for t in offered_tools(available, ["projects.*", "time.now"])] == [
        "projects__list", "time__now"]



GROUNDED = msgspec.structs.replace(PROFILE, answer=AnswerSettings(
    mode="grounded", model_decides=False, routes=(Route(("what is new",), ("projects.list", "tasks.list")),)))
PROJECTS = ToolResult(ToolCallStatus.SUCCEEDED, 1.0, {"projects": [{"id": "prj_x", "name": "Project X"}]})
TASKS = ToolResult(ToolCallStatus.SUCCEEDED, 1.0, {"project_id": "prj_x", "tasks": [
    {"title": "Draft the spec", "status": "todo", "created_by": "member:olena", "created_at": "2026-11-30T09:00"}]})


async def test_a_grounded_turn_runs_the_routed_tools_and_renders_the_reply_without_asking_the_model() -> None:
    llm = ScriptedLlm([text_reply("never asked")])
    tasks_list = {"type": "function", "function": {"name": "tasks__list", "parameters": {
        "type": "object", "properties": {"project_id": {"type": "string"}}, "required": ["project_id"]}}}
    tools = FakeTools([openai_tool("projects__list"), tasks_list],
                      {"projects.list": PROJECTS, "tasks.list": TASKS})
    memory = FakeMemory(Recall(memories=[RecalledMemory("m1", "mid", "conversation", "Agent: beta", 0.9)]))
    agent, recorder = runtime(llm, memory, tools)

    result = await agent.turn(GROUNDED, CONTEXT, "What is new in Project X?")

    assert llm.calls == [] and tools.calls == [("projects.list", {}), ("tasks.list", {"project_id": "prj_x"})]
    assert "“Draft the spec” — to do" in result.reply and result.grounding == "passed"
    # The user's words are remembered; the reply, a restatement of tool results, is not.
    assert result.memories_used == [] and memory.stored == [(CONTEXT, "What is new in Project X?", "")]
    assert recorder.entries[0].pending_events[0].answer_mode == "grounded"


async def test_a_free_reply_with_invented_facts_is_returned_with_a_warning_but_not_remembered() -> None:
    memory = FakeMemory()
    agent, recorder = runtime(ScriptedLlm([text_reply("“Launch the rocket” is done since 2025-01-01.")]), memory)

    result = await agent.turn(PROFILE, CONTEXT, "What is new in Project X?")

    assert result.grounding.startswith("failed") and memory.stored == []
    assert any("not stored in memory (the reply failed" in warning for warning in result.warnings)
    assert recorder.entries[0].pending_events[0].grounding == result.grounding


async def test_a_grounded_reply_citing_a_memory_passes_the_check_with_the_memorys_own_date() -> None:
    note = RecalledMemory("m1", "mid", "conversation", "User: when is the beta launch?\nAgent: The beta launch "
                          "is in mid-December.", 0.033, "2026-11-27T10:00:00+00:00")
    agent, _ = runtime(ScriptedLlm([text_reply("never asked")]), FakeMemory(Recall(memories=[note])))

    result = await agent.turn(GROUNDED, CONTEXT, "When is the beta launch?")

    assert result.reply == "From my notes (2026-11-27): “The beta launch is in mid-December.”"
    assert result.grounding == "passed" and result.memories_used == ["m1"]


COMPACT = PromptSettings(system_prompt="You are Sofia. Be brief.", budget_chars=120,
                         result_fields=("tasks", "title", "status"), result_items=1)


def test_a_compact_prompt_keeps_the_best_memories_then_the_newest_turns_within_its_budget() -> None:
    memories = [RecalledMemory("best", "mid", "conversation", "b" * 100, 0.03),
                RecalledMemory("long", "mid", "conversation", "l" * 500, 0.02),
                RecalledMemory("short", "mid", "conversation", "s" * 10, 0.01)]
    turns = [RecalledTurn("old", "o" * 5, "o" * 5), RecalledTurn("new", "n" * 4, "n" * 4)]
    kept, recent = within_budget(COMPACT, memories, turns)
    assert [m.id for m in kept] == ["best", "short"] and [t.id for t in recent] == ["new"]
    first_alone, _ = within_budget(COMPACT, [memories[1]], [])
    assert [m.id for m in first_alone] == ["long"]  # the most relevant one is never dropped
    profile = msgspec.structs.replace(PROFILE, prompt=COMPACT)
    messages, used = build_messages(profile, "now?", Recall(turns, memories))
    assert messages[0]["content"].startswith("You are Sofia. Be brief.") and used == ["new", "best", "short"]
    assert build_messages(PROFILE, "now?", Recall(turns, memories))[1] == ["old", "new", "best", "long", "short"]


def test_a_compact_prompt_shows_the_model_only_the_named_fields_and_the_first_items_of_tool_results() -> None:
    result = ToolResult(ToolCallStatus.SUCCEEDED, 1.0, {"project_id": "prj_x", "tasks": [
        {"title": "Draft the spec", "status": "todo", "description": "long text " * 50},
        {"title": "Later", "status": "done"}]})
    message = tool_message("c1", result, 12_000, COMPACT)
    assert json.loads(message["content"]) == {"tasks": [{"title": "Draft the spec", "status": "todo"}]}
    assert "description" in tool_message("c1", result, 12_000, PromptSettings())["content"]
    failed = ToolResult(ToolCallStatus.FAILED, 1.0, None, {"type": "timeout"})
    assert json.loads(tool_message("c1", failed, 12_000, COMPACT)["content"]) == {"error": {"type": "timeout"}}
