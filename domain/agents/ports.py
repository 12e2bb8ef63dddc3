"""The other services as an agent turn sees them: memory, tools and the LLM proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from domain.agents.model import LlmCall, LlmReply, Recall, ToolResult, TurnContext


class AgentMemory(Protocol):
    async def recall(self, context: TurnContext, query: str, tiers: Sequence[str], limit: int) -> Recall:
        """The channel's recent turns and the memories most relevant to `query`.

        Raises ServiceUnavailable / UpstreamFailed / UpstreamTimeout when memory cannot answer."""
        ...

    async def remember(self, context: TurnContext, user_message: str, agent_reply: str) -> list[str]:
        """Stores the turn (durable on return); a retry of the same request stores nothing new."""
        ...


class AgentTools(Protocol):
    async def available(self, context: TurnContext) -> list[dict[str, Any]]:
        """The agent's allowed tools as OpenAI function-calling `tools` entries."""
        ...

    async def call(self, context: TurnContext, tool_id: str, args: dict[str, Any]) -> ToolResult:
        """Never raises for the call's own failure (denied, invalid, failed, unreachable): it is a result."""
        ...


class AgentLlm(Protocol):
    async def complete(self, context: TurnContext, call: LlmCall) -> LlmReply:
        """Raises UpstreamFailed (502) when the proxy is unreachable, else the proxy's own error."""
        ...

    def stream(self, context: TurnContext, call: LlmCall) -> AsyncIterator[str | LlmReply]:
        """Text deltas as they come, then the whole LlmReply (tool calls assembled, usage)."""
        ...
