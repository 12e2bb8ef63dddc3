"""The stub provider answers whatever shape of tools and tool calls a client sends (clients send anything)."""

from __future__ import annotations

from typing import Any

import pytest

from domain.llm.policies import ChatRequest
from infra.llm.providers.stub import StubProvider


@pytest.mark.parametrize("tool_calls", [[{}], [{"function": None}], [{"function": {"name": 5}}], ["x"]])
async def test_tool_calls_of_any_shape_are_answered_not_crashed_on(tool_calls: list[Any]) -> None:
    request = ChatRequest(messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "tool_calls": tool_calls}],
                          tools=[{"type": "function", "function": {"name": "f"}}, {"type": "function"}])
    result = await StubProvider("stub").complete("stub-1", request, 5)
    assert result.content is not None or result.tool_calls
