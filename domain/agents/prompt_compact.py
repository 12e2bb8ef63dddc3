"""The compact prompt of PromptSettings: what a small model reads of memories, history and tool results.

Memories come first within the character budget (recall ranked them by relevance to the question), then the
channel's turns, newest first; whatever does not fit whole is left out rather than cut mid-sentence, except
the best memory, kept over budget (clipped to memory.max_chars like every memory) so it is never lost. Tool results keep only the named
fields and the first items of each list: a task's description or ids of no use to the reply cost a 135M
model seconds and attention.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from domain.agents.model import PromptSettings, RecalledMemory, RecalledTurn

T = TypeVar("T")


def within_budget(settings: PromptSettings, memories: Sequence[RecalledMemory], turns: Sequence[RecalledTurn],
                  ) -> tuple[list[RecalledMemory], list[RecalledTurn]]:
    """The memories and (in their order) the turns that fit `budget_chars`; all of them without a budget."""
    if not settings.budget_chars:
        return list(memories), list(turns)
    left = settings.budget_chars
    kept_memories = []
    for index, memory in enumerate(memories):
        if len(memory.text) <= left or index == 0:
            kept_memories.append(memory)
            left -= min(len(memory.text), left)
    kept_turns: list[RecalledTurn] = []
    for turn in reversed(turns):
        size = len(turn.user_message or turn.text) + len(turn.agent_reply)
        if size > left:
            break
        kept_turns.insert(0, turn)
        left -= size
    return kept_memories, kept_turns


def trimmed(value: Any, settings: PromptSettings) -> Any:
    """A tool result with only `result_fields` (at any depth) and `result_items` items per list."""
    if isinstance(value, dict):
        return {key: trimmed(item, settings) for key, item in value.items()
                if not settings.result_fields or key in settings.result_fields}
    if isinstance(value, list):
        return [trimmed(item, settings) for item in _first(value, settings.result_items)]
    return value


def _first(items: list[T], count: int) -> list[T]:
    return items[:count] if count else items
