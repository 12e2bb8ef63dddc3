"""Demo memories: the configured past conversations, stored through the memory API when the runtime starts.

Idempotent (each has a key derived from its content), so every restart finds them already there.
It runs in the background and retries for a while, because memory may still be starting.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import UTC, datetime, timedelta

from apps.agent_runtime.settings import RuntimeSettings, SeedConversation
from domain.agents.model import TurnContext
from domain.kernel.errors import DaarionError
from infra.agents.memory_client import MemoryClient

log = logging.getLogger("daarion.agent_runtime.seed")


async def seed_memories(config: RuntimeSettings, memory: MemoryClient, attempts: int = 30, pause_s: float = 2.0) -> int:
    """Stores every seed conversation; returns how many. Gives up (with a warning) after `attempts` tries."""
    conversations = config.seed.conversations
    for attempt in range(1, attempts + 1):
        try:
            for conversation in conversations:
                await _store(config, memory, conversation)
        except DaarionError as exc:
            if attempt == attempts:
                log.warning("seed conversations not stored: %s", exc.message)
                return 0
            await asyncio.sleep(pause_s)
            continue
        log.info("seed: %d past conversations are in memory", len(conversations))
        return len(conversations)
    return 0


async def _store(config: RuntimeSettings, memory: MemoryClient, conversation: SeedConversation) -> None:
    key = hashlib.sha256(f"{conversation.agent_id}\0{conversation.channel_id}\0{conversation.user_message}"
                         .encode()).hexdigest()[:32]
    profile = config.agent(conversation.agent_id)
    context = TurnContext(f"seed-{key}", profile.id, profile.microdao_id, conversation.channel_id,
                          conversation.user_id)
    occurred_at = datetime.now(UTC) - timedelta(days=conversation.days_ago)
    await memory.store_conversation(context, conversation.user_message, conversation.agent_reply, f"seed:{key}",
                                    occurred_at)
