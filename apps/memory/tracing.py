"""What a memory query's GenAI `retrieval` span says: whose memory, which tiers, how much came back. The query
text and the memories found are not recorded (they are the user's words)."""

from __future__ import annotations

from opentelemetry.util.types import AttributeValue

from domain.memory.model import Scope
from domain.memory.service import QueryResult
from infra.platform import gen_ai

DATA_SOURCE = "daarion-memory"


def retrieval_attributes(scope: Scope, tiers: list[str] | None) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {gen_ai.OPERATION: "retrieval", gen_ai.DATA_SOURCE_ID: DATA_SOURCE,
                                             gen_ai.AGENT_ID: scope.agent_id, "daarion.microdao_id": scope.microdao_id}
    if tiers is not None:
        attributes["daarion.memory.tiers"] = tiers
    return attributes


def found_attributes(result: QueryResult) -> dict[str, AttributeValue]:
    return {"daarion.memory.memories": len(result.memories), "daarion.memory.short_term_turns": len(result.short_term)}
