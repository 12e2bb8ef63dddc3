"""Demo memories: the configured past conversations, stored through the memory API when the runtime starts.

Idempotent (each has a key derived from its content), so every restart finds them already there.
It runs in the background and retries for a while, because memory may still be starting.

Memory takes each conversation only under its agent's own key, like any turn. The runtime has no keys of
its own, so the seed takes them from the local keys file (`daarion up` writes it before it starts the
services, see infra/identity/local_keys.py); an agent without a key there, or whose key memory refuses,
has its conversations skipped with one log line: demo data is never worth failing a start for.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apps.agent_runtime.settings import RuntimeSettings, SeedConversation
from domain.agents.model import TurnContext
from domain.kernel.credential import Credential
from domain.kernel.errors import DaarionError, PermissionDenied, Unauthenticated
from infra.agents.memory_client import MemoryClient
from infra.identity.local_keys import agent_key

log = logging.getLogger("daarion.agent_runtime.seed")
KeyOf = Callable[[str], str | None]


async def seed_memories(
    config: RuntimeSettings, memory: MemoryClient, key_of: KeyOf = agent_key, attempts: int = 30,
    pause_s: float = 2.0,
) -> int:
    """Stores every seed conversation whose agent has a key; returns how many. Gives up (with a warning)
    after `attempts` tries."""
    pending = _with_keys(config.seed.conversations, key_of)
    stored = 0
    for attempt in range(1, attempts + 1):
        try:
            while pending:
                conversation, credential = pending[0]
                try:
                    await _store(config, memory, conversation, credential)
                    stored += 1
                except (Unauthenticated, PermissionDenied) as exc:  # asking again will not change the answer
                    log.warning("seed: memory refused %s's key (%s); its conversations are skipped",
                                conversation.agent_id, exc.type)
                    pending = [item for item in pending if item[0].agent_id != conversation.agent_id]
                    continue
                pending.pop(0)
        except DaarionError as exc:
            if attempt == attempts:
                log.warning("seed conversations not stored: %s", exc.message)
                return stored
            await asyncio.sleep(pause_s)
            continue
        log.info("seed: %d past conversations are in memory", stored)
        return stored
    return stored


def _with_keys(
    conversations: list[SeedConversation], key_of: KeyOf,
) -> list[tuple[SeedConversation, Credential]]:
    keys: dict[str, Credential | None] = {}
    for agent_id in dict.fromkeys(c.agent_id for c in conversations):
        try:
            key = key_of(agent_id)
        except ValueError as exc:  # a keys file that cannot be read
            log.warning("seed: no keys (%s); the seed conversations are skipped", exc)
            return []
        keys[agent_id] = Credential(key) if key else None
        if key is None:
            log.info("seed: no key for %s (run `daarion up` once, it writes the keys file); its seed "
                     "conversations are skipped", agent_id)
    return [(c, credential) for c in conversations if (credential := keys[c.agent_id]) is not None]


async def _store(
    config: RuntimeSettings, memory: MemoryClient, conversation: SeedConversation, credential: Credential,
) -> None:
    key = hashlib.sha256(f"{conversation.agent_id}\0{conversation.channel_id}\0{conversation.user_message}"
                         .encode()).hexdigest()[:32]
    profile = config.agent(conversation.agent_id)
    context = TurnContext(f"seed-{key}", profile.id, profile.microdao_id, conversation.channel_id,
                          conversation.user_id, credential)
    occurred_at = datetime.now(UTC) - timedelta(days=conversation.days_ago)
    await memory.store_conversation(context, conversation.user_message, conversation.agent_reply, f"seed:{key}",
                                    occurred_at)
