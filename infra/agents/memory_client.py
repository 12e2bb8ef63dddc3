"""The memory service as the agent runtime calls it: recall before the model, remember after the reply."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

import msgspec

from domain.agents.model import Recall, RecalledMemory, RecalledTurn, TurnContext
from domain.kernel.errors import UpstreamFailed
from infra.agents.service_http import ServiceEndpoint, ServiceHttp, status_error

SERVICE = "memory"
T = TypeVar("T")


class _Hit(msgspec.Struct):
    id: str
    tier: str
    kind: str
    text: str
    score: float = 0.0
    created_at: str | None = None


class _QueryResult(msgspec.Struct):
    short_term: list[RecalledTurn] = []
    memories: list[_Hit] = []


class _Stored(msgspec.Struct):
    id: str
    ids: list[str] = []


class MemoryClient:
    def __init__(self, http: ServiceHttp, endpoint: ServiceEndpoint) -> None:
        self._http = http
        self._endpoint = endpoint

    async def recall(self, context: TurnContext, query: str, tiers: Sequence[str], limit: int) -> Recall:
        body = {"agent_id": context.agent_id, "microdao_id": context.microdao_id, "query": query, "limit": limit,
                "channel_id": context.channel_id, "tiers": list(tiers)}
        found = await self._post("/internal/agent-memory/query", context, body, _QueryResult)
        memories = [RecalledMemory(h.id, h.tier, h.kind, h.text, h.score, h.created_at) for h in found.memories]
        return Recall(found.short_term, memories)

    async def remember(self, context: TurnContext, user_message: str, agent_reply: str) -> list[str]:
        # A retried turn (same request id) must not be remembered twice.
        return await self.store_conversation(context, user_message, agent_reply, f"turn:{context.request_id}")

    async def store_conversation(
        self, context: TurnContext, user_message: str, agent_reply: str, idempotency_key: str,
        occurred_at: datetime | None = None,
    ) -> list[str]:
        body: dict[str, object] = {
            "agent_id": context.agent_id, "microdao_id": context.microdao_id, "channel_id": context.channel_id,
            "user_id": context.user_id, "kind": "conversation",
            "content": {"user_message": user_message, "agent_reply": agent_reply},
            "metadata": {"request_id": context.request_id, "source": "agent-runtime"},
            "idempotency_key": idempotency_key,
        }
        if occurred_at is not None:
            body["occurred_at"] = occurred_at.isoformat()
        stored = await self._post("/internal/agent-memory/store", context, body, _Stored)
        return stored.ids or [stored.id]

    async def _post(self, path: str, context: TurnContext, body: object, shape: type[T]) -> T:
        reply = await self._http.call(SERVICE, self._endpoint, "POST", path, context, body)
        if reply.status not in (200, 201):
            raise status_error(SERVICE, reply.status, reply.headers, reply.content)
        try:
            return msgspec.json.decode(reply.content, type=shape)
        except msgspec.ValidationError as exc:
            raise UpstreamFailed(f"the memory service sent an unexpected body ({exc})") from None
