"""The MemoryStore twin, with PgMemoryStore's rules over MemoryTables (shared with InMemoryQueue)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence

import msgspec

from domain.kernel.clock import Clock
from domain.kernel.errors import Conflict
from domain.memory.commands import Search
from domain.memory.model import NewDocument, NewMemory, Scope, visible
from domain.memory.queue import ChunkText
from domain.memory.ranking import Candidate
from domain.memory.records import DocumentResult, Forgotten, MemoryRecord, ShortTermTurn, StoreResult
from tests.fakes.memory_tables import Item, MemoryTables


class InMemoryMemoryStore:
    """Same dedup, scoping (domain.memory.model.visible: searches, get and forget alike) and filters as
    PostgreSQL. The text leg matches whole lowercase words (PostgreSQL also stems them and skips stop
    words) and ranks by words shared.
    The vector leg ranks chunks by cosine distance among the vectors InMemoryQueue.complete wrote for the
    model; given `vectorize`, every chunk counts as indexed already, with vectorize(chunk text)."""

    def __init__(self, vectorize: Callable[[str], list[float]] | None = None, tables: MemoryTables | None = None,
                 clock: Clock | None = None) -> None:
        self.tables = tables or MemoryTables(clock)
        self._vectorize = vectorize
        self._revisions: dict[str, str] = {}  # a document's revision changes with every write, as updated_at does
        self._document_writes = 0

    async def add_memory(self, memory: NewMemory, index_model: str) -> StoreResult:
        scope, key = memory.scope, memory.idempotency_key
        mine = [item for item in self.tables.items.values()
                if item.tier == "mid" and (item.microdao_id, item.agent_id) == (scope.microdao_id, scope.agent_id)]
        same_key = next((item for item in mine if key is not None and item.idempotency_key == key), None)
        if same_key is not None and same_key.content_hash != memory.content_hash:
            raise Conflict(f"idempotency key '{key}' was used for other content (memory {same_key.id})")
        existing = same_key or next((item for item in mine if item.content_hash == memory.content_hash), None)
        if existing is not None:
            return StoreResult(existing.id, False, len(existing.chunks))
        now = self.tables.now()
        item = Item(memory.id, "mid", memory.kind, scope.microdao_id, scope.agent_id, memory.text, memory.content_hash,
                    memory.metadata, memory.occurred_at, now, content=memory.content, channel_id=memory.channel_id,
                    user_id=memory.user_id, idempotency_key=key, updated_at=now)
        self.tables.insert(item, memory.chunks, index_model)
        return StoreResult(memory.id, True, len(memory.chunks))

    async def put_document(self, document: NewDocument, index_model: str) -> DocumentResult:
        existing = next((item for item in self.tables.items.values() if item.tier == "long"
                         and (item.microdao_id, item.doc_key) == (document.microdao_id, document.doc_key)), None)
        if existing is not None and existing.content_hash == document.content_hash:
            return DocumentResult(existing.id, False, False, True, len(existing.chunks), self._revisions[existing.id])
        if existing is not None:  # replaced: the old chunks go, with their vectors and pending job
            self.tables.delete(existing.id)
        now = self.tables.now()
        item = Item(document.id if existing is None else existing.id, "long", "document", document.microdao_id,
                    document.agent_id, document.text, document.content_hash, document.metadata, document.occurred_at,
                    now if existing is None else existing.created_at, title=document.title,
                    source_uri=document.source_uri, doc_key=document.doc_key, updated_at=now)
        self.tables.insert(item, document.chunks, index_model)
        self._document_writes += 1
        self._revisions[item.id] = str(self._document_writes)
        return DocumentResult(item.id, existing is None, existing is not None, False, len(document.chunks),
                              self._revisions[item.id])

    def _visible_item(self, scope: Scope, item_id: str) -> Item | None:
        item = self.tables.items.get(item_id)
        if item is None or not visible(item.tier, item.microdao_id, item.agent_id, scope):
            return None
        return item

    async def get(self, scope: Scope, item_id: str, model: str) -> MemoryRecord | None:
        item = self._visible_item(scope, item_id)
        if item is None:
            return None
        return MemoryRecord(item.id, item.tier, item.kind, item.microdao_id, item.agent_id, item.text, item.metadata,
                            item.occurred_at, item.created_at, item.updated_at or item.created_at, len(item.chunks),
                            self.tables.indexed_chunks(item, model), item.content, item.channel_id, item.user_id,
                            item.title, item.source_uri)

    async def forget(self, scope: Scope, item_id: str, tier: str) -> Forgotten | None:
        item = self._visible_item(scope, item_id)
        if item is None or item.tier != tier:
            return None
        self.tables.delete(item_id)
        return Forgotten(item.id, item.tier, item.microdao_id, item.agent_id)

    async def forget_agent(self, scope: Scope) -> list[Forgotten]:
        doomed = [item for item in self.tables.items.values()
                  if item.tier == "mid" and (item.microdao_id, item.agent_id) == (scope.microdao_id, scope.agent_id)]
        return [f for item in doomed if (f := await self.forget(scope, item.id, "mid")) is not None]

    async def recent_turns(self, scope: Scope, channel_id: str, limit: int) -> list[ShortTermTurn]:
        turns = [item for item in self.tables.items.values()
                 if item.tier == "mid" and item.kind == "conversation" and item.channel_id == channel_id
                 and (item.microdao_id, item.agent_id) == (scope.microdao_id, scope.agent_id)]
        latest = sorted(turns, key=lambda item: item.occurred_at)[-limit:] if limit > 0 else []
        return [ShortTermTurn(item.id, item.occurred_at, item.content.user_message, item.content.agent_reply,
                              item.content.text, item.user_id) for item in latest if item.content is not None]

    async def vector_search(
        self, search: Search, vector: Sequence[float], model: str, per_leg: int,
    ) -> list[Candidate]:
        scored = []
        for item, chunk in self._chunks(search):
            stored = self.tables.vectors.get((chunk.chunk_id, model))
            if stored is None and self._vectorize is not None:
                stored = self._vectorize(chunk.text)
            if stored is not None:
                scored.append((_cosine_distance(vector, stored), chunk.chunk_id, item, chunk))
        ranked = sorted(scored, key=lambda found: found[:2])[:per_leg]
        return [_candidate(item, chunk, vector_rank=rank) for rank, (*_, item, chunk) in enumerate(ranked, start=1)]

    async def text_search(self, search: Search, per_leg: int) -> list[Candidate]:
        terms = set(search.terms)

        def shared(words: set[str]) -> int:
            return len(terms & words) + sum(1 for prefix in search.prefixes if any(w.startswith(prefix) for w in words))

        scored = [(-shared(_words(chunk.text)), chunk.chunk_id, item, chunk) for item, chunk in self._chunks(search)]
        ranked = sorted((found for found in scored if found[0] < 0), key=lambda found: found[:2])[:per_leg]
        return [_candidate(item, chunk, text_rank=rank) for rank, (*_, item, chunk) in enumerate(ranked, start=1)]

    async def unknown_words(self, search: Search, words: Sequence[str]) -> set[str]:
        everything = msgspec.structs.replace(search, kinds=None, since=None, until=None, metadata={})
        seen = set().union(*(_words(chunk.text) for _, chunk in self._chunks(everything)))
        return {word for word in words if word.lower() not in seen}

    def _chunks(self, search: Search) -> Iterator[tuple[Item, ChunkText]]:
        """Chunks in the search's scope that pass its filters (kinds, time range, metadata containment)."""
        for item in list(self.tables.items.values()):
            if item.tier not in search.tiers or not visible(item.tier, item.microdao_id, item.agent_id, search.scope):
                continue
            if search.kinds is not None and item.kind not in search.kinds:
                continue
            if (search.since and item.occurred_at < search.since) or (search.until and item.occurred_at >= search.until):
                continue
            if any(item.metadata.get(name, _ABSENT) != value for name, value in search.metadata.items()):
                continue
            yield from ((item, chunk) for chunk in item.chunks)


_ABSENT = object()


def _words(text: str) -> set[str]:
    return set(re.findall(r"[^\W_]+", text.lower()))


def _cosine_distance(a: Sequence[float], b: Sequence[float]) -> float:
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return 1.0 - (sum(x * y for x, y in zip(a, b, strict=True)) / norms if norms else 0.0)


def _candidate(item: Item, chunk: ChunkText, vector_rank: int | None = None, text_rank: int | None = None) -> Candidate:
    seq = item.chunks.index(chunk)
    return Candidate(chunk.chunk_id, item.id, seq, item.tier, item.kind, item.text if item.tier == "mid" else chunk.text,
                     item.occurred_at, item.created_at, item.metadata, vector_rank, text_rank,
                     channel_id=item.channel_id, title=item.title, source_uri=item.source_uri)
