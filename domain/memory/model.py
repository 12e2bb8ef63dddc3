"""What an agent remembers: tiers, kinds, scoping rules, and the validated shapes the store takes.

Tiers
    short  the last N conversation turns of one channel, by time (no embedding), oldest first.
    mid    one agent's past conversations, tasks and facts, searched by relevance.
    long   a microDAO's knowledge base (chunked documents), searchable by every agent of that microDAO.

Scoping (the one rule every read, search and forget follows; `visible` states it, the SQL and the database's
row-level security policies mirror it; the scope is the caller's key's agent and microDAO):
    a memory is visible to (agent A, microDAO M) iff its microdao_id == M and
    either it is long-term, or it is mid-term and its agent_id == A.
So agent A of microDAO 7 never sees microDAO 8, nor agent B's memories inside microDAO 7.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

import msgspec

from domain.kernel.errors import InvalidRequest

TIERS = ("short", "mid", "long")
KINDS = ("conversation", "task", "fact")
DOCUMENT_KIND = "document"
SEARCH_KINDS = (*KINDS, DOCUMENT_KIND)
ALL_TIERS: frozenset[str] = frozenset(TIERS)
Scalar = str | int | float | bool | None
Metadata = dict[str, Scalar]


class MemoryLimits(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Input bounds; each violation is a 400 that names the bound."""

    max_content_bytes: int = 32_768
    max_document_bytes: int = 2_097_152
    max_query_chars: int = 2_000
    max_limit: int = 50
    max_metadata_keys: int = 32
    short_term_turns: int = 10

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


class Scope(msgspec.Struct, frozen=True):
    """Who is asking: the agent of the caller's key and its microDAO. Every read and write is confined to
    what `visible` lets this scope see."""

    microdao_id: str
    agent_id: str


def visible(tier: str, microdao_id: str, agent_id: str, scope: Scope) -> bool:
    if microdao_id != scope.microdao_id:
        return False
    return tier == "long" or (tier == "mid" and agent_id == scope.agent_id)


class MemoryContent(msgspec.Struct, frozen=True, omit_defaults=True):
    """A conversation turn (`user_message`, `agent_reply`) or, for facts and tasks, plain `text`."""

    user_message: str = ""
    agent_reply: str = ""
    text: str = ""

    def searchable_text(self) -> str:
        """Without speaker labels: 'User:' in every row would match every query about users."""
        return "\n\n".join(part for part in (self.user_message, self.agent_reply, self.text) if part.strip())

    def display_text(self) -> str:
        lines = []
        if self.user_message.strip():
            lines.append(f"User: {self.user_message}")
        if self.agent_reply.strip():
            lines.append(f"Agent: {self.agent_reply}")
        if self.text.strip():
            lines.append(self.text)
        return "\n".join(lines)


class NewMemory(msgspec.Struct, frozen=True):
    id: str
    scope: Scope
    kind: str
    content: MemoryContent
    text: str
    chunks: list[str]
    content_hash: str
    content_bytes: int
    occurred_at: datetime
    metadata: Metadata
    channel_id: str | None = None
    user_id: str | None = None
    idempotency_key: str | None = None


class NewDocument(msgspec.Struct, frozen=True):
    id: str
    microdao_id: str
    agent_id: str
    title: str
    doc_key: str
    source_uri: str | None
    format: str
    text: str
    chunks: list[str]
    content_hash: str
    content_bytes: int
    occurred_at: datetime
    metadata: Metadata


def new_id() -> str:
    return str(uuid.uuid4())


def parse_id(raw: str, what: str = "memory id") -> str:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise InvalidRequest(f"{what} '{raw[:64]}' is not a UUID") from None


def content_hash(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\x00")  # so ("ab", "c") and ("a", "bc") differ
    return digest.hexdigest()


def check_size(what: str, text: str, limit: int) -> int:
    size = len(text.encode())
    if size > limit:
        raise InvalidRequest(f"{what} is {size} bytes; the limit is {limit} bytes")
    return size


def check_metadata(metadata: Metadata, limits: MemoryLimits) -> Metadata:
    if len(metadata) > limits.max_metadata_keys:
        raise InvalidRequest(f"metadata has {len(metadata)} keys; the limit is {limits.max_metadata_keys}")
    return metadata

