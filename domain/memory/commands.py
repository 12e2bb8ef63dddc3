"""The three writes/reads an agent asks for, as strict Structs (they double as the HTTP bodies).

Static bounds live in `Meta`; bounds that come from configuration (sizes, the query limit) are checked
by `to_memory`, `to_document` and `to_search`, which turn a command into what the store takes.

Whose memory a command touches is the `Scope` these functions are given (the caller's, from its key), never
the body: `agent_id` / `microdao_id` in a body are what an older client says it is, which the app compares
with the key (naming another agent is refused) and then ignores. Empty counts as not given.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from domain.kernel.errors import InvalidRequest
from domain.kernel.ids import ExternalId, OptionalSubjectId
from domain.memory.chunking import ChunkingPolicy, chunk_markdown, chunk_plain
from domain.memory.model import (
    ALL_TIERS,
    KINDS,
    SEARCH_KINDS,
    TIERS,
    MemoryContent,
    MemoryLimits,
    Metadata,
    NewDocument,
    NewMemory,
    Scope,
    check_metadata,
    check_size,
    content_hash,
    new_id,
)

Timestamp = Annotated[datetime, Meta(tz=True)]
Claim = OptionalSubjectId | None  # an id a body may name; only ever compared with the caller's


class StoreMemory(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    content: MemoryContent
    agent_id: Claim = None
    microdao_id: Claim = None
    channel_id: ExternalId | None = None
    user_id: ExternalId | None = None
    kind: str = "conversation"
    metadata: Metadata = {}
    occurred_at: Timestamp | None = None
    idempotency_key: Annotated[str, Meta(min_length=1, max_length=200)] | None = None


class QueryMemory(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`channel_id` picks the short-term turns; mid- and long-term search spans every channel."""

    query: str
    agent_id: Claim = None
    microdao_id: Claim = None
    limit: int = 10
    channel_id: ExternalId | None = None
    tiers: list[str] | None = None
    kinds: list[str] | None = None
    since: Timestamp | None = None
    until: Timestamp | None = None
    metadata: Metadata = {}


class PostDocument(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Exactly one of `text` and `markdown`; a document with the same `source_uri` is replaced. A document
    belongs to its microDAO (every agent of it finds it); its agent_id is the agent that last wrote it."""

    title: Annotated[str, Meta(min_length=1, max_length=500)]
    microdao_id: Claim = None
    text: str | None = None
    markdown: str | None = None
    source_uri: Annotated[str, Meta(min_length=1, max_length=2000)] | None = None
    agent_id: Claim = None
    metadata: Metadata = {}


class Search(msgspec.Struct, frozen=True):
    scope: Scope
    query: str
    terms: list[str]
    limit: int
    tiers: frozenset[str]
    channel_id: str | None
    kinds: list[str] | None
    since: datetime | None
    until: datetime | None
    metadata: Metadata
    prefixes: list[str] = msgspec.field(default_factory=list)  # stems matched as `stem:*` (domain.memory.stems)

    @property
    def searches_stored_tiers(self) -> bool:
        return bool(self.tiers & {"mid", "long"})


def to_memory(command: StoreMemory, scope: Scope, limits: MemoryLimits, chunking: ChunkingPolicy) -> NewMemory:
    check_names("kind", [command.kind], KINDS)
    content = command.content
    searchable = content.searchable_text()
    if not searchable.strip():
        raise InvalidRequest("content is empty: give user_message and/or agent_reply (or text)")
    size = check_size("content", content.user_message + content.agent_reply + content.text, limits.max_content_bytes)
    return NewMemory(
        id=new_id(),
        scope=scope,
        kind=command.kind,
        content=content,
        text=content.display_text(),
        chunks=chunk_plain(searchable, chunking),
        content_hash=content_hash(content.user_message, content.agent_reply, content.text),
        content_bytes=size,
        occurred_at=command.occurred_at or datetime.now(UTC),
        metadata=check_metadata(command.metadata, limits),
        channel_id=command.channel_id,
        user_id=command.user_id,
        idempotency_key=command.idempotency_key,
    )


def to_document(
    command: PostDocument, scope: Scope, limits: MemoryLimits, chunking: ChunkingPolicy,
) -> NewDocument:
    if (command.text is None) == (command.markdown is None):
        raise InvalidRequest("give exactly one of 'text' and 'markdown'")
    body = command.markdown if command.markdown is not None else command.text or ""
    if not body.strip():
        raise InvalidRequest("the document is empty")
    size = check_size("document", body, limits.max_document_bytes)
    fmt = "markdown" if command.markdown is not None else "text"
    digest = content_hash(fmt, command.title, body)
    chunks = (chunk_markdown(body, command.title, chunking) if fmt == "markdown"
              else chunk_plain(body, chunking, heading=command.title))
    return NewDocument(
        id=new_id(),
        microdao_id=scope.microdao_id,
        agent_id=scope.agent_id,
        title=command.title,
        # Identity of a document: its source uri, else its content (re-posting it is a no-op).
        doc_key=command.source_uri or f"sha256:{digest}",
        source_uri=command.source_uri,
        format=fmt,
        text=body,
        chunks=chunks,
        content_hash=digest,
        content_bytes=size,
        occurred_at=datetime.now(UTC),
        metadata=check_metadata(command.metadata, limits),
    )


def check_names(what: str, names: list[str], known: tuple[str, ...]) -> list[str]:
    """Unknown enum values get a 400 that lists the valid ones (a bare schema error would not)."""
    if not names:
        raise InvalidRequest(f"{what}s, when given, must name at least one of: {', '.join(known)}")
    for name in names:
        if name not in known:
            raise InvalidRequest(f"unknown {what} '{name[:40]}'; {what}s are: {', '.join(known)}")
    return names


_WORD = re.compile(r"[^\W_]+")  # letters and digits only: nothing tsquery could read as an operator
MAX_TERMS = 32


def query_terms(query: str) -> list[str]:
    """Words for the full-text leg, OR-ed: a paraphrase rarely repeats every word of the answer."""
    unique = dict.fromkeys(_WORD.findall(query.lower()))
    return list(unique)[:MAX_TERMS]


def to_search(command: QueryMemory, scope: Scope, limits: MemoryLimits) -> Search:
    query = command.query.strip()
    if not query:
        raise InvalidRequest("query must not be empty")
    if len(query) > limits.max_query_chars:
        raise InvalidRequest(f"query is {len(query)} characters; the limit is {limits.max_query_chars}")
    if not 1 <= command.limit <= limits.max_limit:
        raise InvalidRequest(f"limit must be between 1 and {limits.max_limit}, got {command.limit}")
    if command.since and command.until and command.since >= command.until:
        raise InvalidRequest("'since' must be earlier than 'until'")
    tiers = frozenset(check_names("tier", command.tiers, TIERS)) if command.tiers is not None else ALL_TIERS
    if command.kinds is not None:
        check_names("kind", command.kinds, SEARCH_KINDS)
    return Search(
        scope=scope, query=query, terms=query_terms(query),
        limit=command.limit, tiers=tiers, channel_id=command.channel_id, kinds=command.kinds,
        since=command.since, until=command.until, metadata=check_metadata(command.metadata, limits),
    )
