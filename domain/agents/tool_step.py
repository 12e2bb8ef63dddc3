"""The tool calls of one step: past the per-step limit they are skipped, with arguments that are not a
JSON object they are invalid, and the rest go to Toolcore all at once."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from domain.agents.model import AgentProfile, ToolResult, ToolRun, TurnContext
from domain.agents.prompt import call_arguments, function_name
from domain.kernel.tool_calls import ToolCallStatus
from domain.kernel.tool_names import tool_id_of

if TYPE_CHECKING:
    from domain.agents.ports import AgentTools


async def run_tool_calls(
    tools: AgentTools, profile: AgentProfile, context: TurnContext, calls: list[dict[str, Any]], step: int,
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
            result = await tools.call(context, tool_id, arguments)
        run = ToolRun(tool_id, arguments or {}, result.status, step, result.latency_ms, result.error)
        return run, result

    return list(await asyncio.gather(*(run(i, call) for i, call in enumerate(calls))))
