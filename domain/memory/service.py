"""The memory service layer: store, query, forget and the knowledge base, each write in the usage ledger.

Every call acts for a `Scope` (the caller's agent and microDAO, from its key) and touches nothing that
scope may not see (domain.memory.model.visible): an id of another agent's memory or another microDAO's
document reads as missing, so ids reveal nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import msgspec

from domain.kernel.clock import Clock
from domain.kernel.errors import DaarionError, NotFound
from domain.ledger.events import LedgerEntry, MemoryForgotten, MemoryStored, new_entry
from domain.ledger.ports import UsageRecorder
from domain.memory.chunking import ChunkingPolicy
from domain.memory.commands import (
    PostDocument,
    QueryMemory,
    Search,
    StoreMemory,
    to_document,
    to_memory,
    to_search,
)
from domain.memory.model import DOCUMENT_KIND, MemoryLimits, Scope, parse_id
from domain.memory.names import capitalised_names, without_words
from domain.memory.near_duplicates import NearDuplicates
from domain.memory.ports import Embedder, MemoryStore, QueryEmbedder
from domain.memory.ranking import Candidate, Hit, RankingPolicy, fuse, merge_legs
from domain.memory.records import DocumentResult, Forgotten, MemoryRecord, ShortTermTurn, StoreResult
from domain.memory.retrieval import Reranker, RetrievalPolicy, pool_size, second_stage
from domain.memory.stems import with_prefix_stems
from domain.memory.temporal import mentioned_window

log = logging.getLogger(__name__)


class QueryResult(msgspec.Struct, frozen=True):
    short_term: list[ShortTermTurn]
    memories: list[Hit]


class MemoryPolicies(msgspec.Struct, frozen=True):
    limits: MemoryLimits = MemoryLimits()
    chunking: ChunkingPolicy = ChunkingPolicy()
    ranking: RankingPolicy = RankingPolicy()
    retrieval: RetrievalPolicy = RetrievalPolicy()


class MemoryService:
    def __init__(
        self, store: MemoryStore, embedder: Embedder, recorder: UsageRecorder, clock: Clock,
        policies: MemoryPolicies, on_enqueued: Callable[[], None] | None = None, reranker: Reranker | None = None,
        near_duplicates: NearDuplicates | None = None,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._recorder = recorder
        self._clock = clock
        self._policies = policies
        self._on_enqueued = on_enqueued or (lambda: None)
        self._reranker = reranker
        self._near_duplicates = near_duplicates

    async def store(self, scope: Scope, request_id: str, command: StoreMemory) -> StoreResult:
        memory = to_memory(command, scope, self._policies.limits, self._policies.chunking)
        if self._near_duplicates is not None and (merged := await self._near_duplicates.merge(memory)) is not None:
            return merged  # nothing new is stored: the memory merged into has its MemoryStored already
        result = await self._store.add_memory(memory, self._embedder.model)
        if result.created:
            self._on_enqueued()
        # Recorded on every call under an id derived from the memory: a client retrying after the ledger
        # commit failed gets the entry written now, any other repeat finds it there and adds nothing.
        await self._recorder.record(LedgerEntry.of(
            MemoryStored, result.ledger_entry_id, request_id=request_id, memory_id=result.id,
            agent_id=memory.scope.agent_id, microdao_id=memory.scope.microdao_id, tier="mid", kind=memory.kind,
            content_bytes=memory.content_bytes,
        ))
        return result

    async def put_document(self, scope: Scope, request_id: str, command: PostDocument) -> DocumentResult:
        """A document of the scope's microDAO, written by the scope's agent."""
        document = to_document(command, scope, self._policies.limits, self._policies.chunking)
        result = await self._store.put_document(document, self._embedder.model)
        if not result.unchanged:
            self._on_enqueued()
        # As for memories: one entry per version of the document, written by whichever call gets through.
        await self._recorder.record(LedgerEntry.of(
            MemoryStored, result.ledger_entry_id(document.content_hash), request_id=request_id,
            memory_id=result.id, agent_id=document.agent_id, microdao_id=document.microdao_id, tier="long",
            kind=DOCUMENT_KIND, content_bytes=document.content_bytes,
        ))
        return result

    async def query(self, scope: Scope, command: QueryMemory) -> QueryResult:
        """The scope's agent's memories and its microDAO's knowledge base, ranked together."""
        search = to_search(command, scope, self._policies.limits)
        short_term, memories = await asyncio.gather(self._short_term(search), self._relevant(search))
        # The turns already in short-term context are not worth a second place in the ranking.
        recent = {turn.id for turn in short_term}
        return QueryResult(short_term, [hit for hit in memories if hit.id not in recent][: search.limit])

    async def get(self, scope: Scope, raw_id: str) -> MemoryRecord:
        item_id = parse_id(raw_id)
        record = await self._store.get(scope, item_id, self._embedder.model)
        if record is None:
            raise NotFound(f"no memory {item_id}")
        return record

    async def get_document(self, scope: Scope, raw_id: str) -> MemoryRecord:
        record = await self.get(scope, raw_id)
        if record.tier != "long":
            raise NotFound(f"no knowledge document {record.id}")
        return record

    async def forget(self, scope: Scope, request_id: str, raw_id: str, tier: str = "mid") -> list[str]:
        """A memory of the scope's agent ("mid"), or a document of its microDAO ("long")."""
        item_id = parse_id(raw_id, "document id" if tier == "long" else "memory id")
        forgotten = await self._store.forget(scope, item_id, tier)
        if forgotten is None:
            what = "knowledge document" if tier == "long" else "memory"
            raise NotFound(f"no {what} {item_id}")
        await self._record_forgotten(request_id, [forgotten])
        return [forgotten.id]

    async def forget_agent(self, scope: Scope, request_id: str) -> list[str]:
        """Every memory of the scope's agent in its microDAO; the microDAO's documents stay."""
        forgotten = await self._store.forget_agent(scope)
        await self._record_forgotten(request_id, forgotten)
        return [item.id for item in forgotten]

    async def _short_term(self, search: Search) -> list[ShortTermTurn]:
        if "short" not in search.tiers or search.channel_id is None:
            return []
        turns = self._policies.limits.short_term_turns
        return await self._store.recent_turns(search.scope, search.channel_id, turns)

    async def _relevant(self, search: Search) -> list[Hit]:
        if not search.searches_stored_tiers:
            return []
        ranking, retrieval = self._policies.ranking, self._policies.retrieval
        search = with_prefix_stems(search) if retrieval.prefix_stems else search
        # The full-text leg runs while the query is being embedded; the vector leg follows the embedding.
        (vector, vector_hits), text_hits = await asyncio.gather(
            self._vector_leg(search, ranking.candidates_per_leg),
            self._store.text_search(search, ranking.candidates_per_leg),
        )
        # One spare slot per short-term turn, since those are dropped from the ranking afterwards.
        limit = search.limit + (self._policies.limits.short_term_turns if search.channel_id else 0)
        now = self._clock.now()
        window = mentioned_window(search.query, now) if retrieval.temporal_boost else None
        hits = fuse(merge_legs(vector_hits, text_hits), ranking, now, pool_size(retrieval, limit), window,
                    retrieval.temporal_boost)
        return await second_stage(hits, search, vector, self._reranker, retrieval)

    async def _vector_leg(self, search: Search, per_leg: int) -> tuple[list[float] | None, list[Candidate]]:
        """The query's vector and the leg's hits; an embedder outage degrades a query to full text instead
        of failing it (no vector)."""
        text = await self._text_to_embed(search)
        try:
            if isinstance(self._embedder, QueryEmbedder):
                vector = await self._embedder.embed_query(text)
            else:
                [vector] = await self._embedder.embed([text])
        except DaarionError as exc:
            log.warning("query embedding failed (%s); answering from full text only", exc.message)
            return None, []
        return vector, await self._store.vector_search(search, vector, self._embedder.model, per_leg)

    async def _text_to_embed(self, search: Search) -> str:
        if not self._policies.retrieval.drop_unknown_names:
            return search.query
        names = capitalised_names(search.query)
        unknown = await self._store.unknown_words(search, names) if names else set()
        return without_words(search.query, unknown) or search.query

    async def _record_forgotten(self, request_id: str, forgotten: list[Forgotten]) -> None:
        groups: dict[tuple[str, str, str], list[str]] = {}
        for item in forgotten:
            groups.setdefault((item.agent_id, item.microdao_id, item.tier), []).append(item.id)
        for (agent_id, microdao_id, tier), ids in groups.items():
            await self._recorder.record(new_entry(
                MemoryForgotten, request_id=request_id, agent_id=agent_id, microdao_id=microdao_id,
                memory_ids=ids, tier=tier,
            ))
