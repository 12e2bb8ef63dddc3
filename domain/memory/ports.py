"""What the memory service needs: an embedder, a store of items/chunks/vectors, the indexing queue."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

from domain.memory.commands import Search
from domain.memory.model import NewDocument, NewMemory, Scope
from domain.memory.queue import IndexedJob, IndexJob, JobFailure, QueueStats
from domain.memory.ranking import Candidate
from domain.memory.records import DocumentResult, Forgotten, MemoryRecord, ShortTermTurn, StoreResult

# Whose spend an embedding is: (agent_id, microdao_id) -> a block inside which the embedder bills that agent.
Attribution = Callable[[str, str], AbstractContextManager[None]]


class Embedder(Protocol):
    """Texts to unit-length vectors; `model` and `dimensions` are stored with every vector it makes."""

    @property
    def model(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order. Raises UpstreamFailed / UpstreamTimeout / ServiceUnavailable."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class QueryEmbedder(Protocol):
    """An embedder that embeds a query differently from the texts it is compared with (e5: "query: ")."""

    async def embed_query(self, text: str) -> list[float]: ...


class TokenEncoder(Protocol):
    """Per-token vectors of a text, packed for storage, for a late-interaction rerank stage."""

    @property
    def model(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    async def token_vectors(self, texts: list[str]) -> list[bytes]:
        """One packed matrix (tokens x dimensions) per text, in order."""
        ...


class MemoryStore(Protocol):
    """Items, their chunks and vectors. Writes are durable when the call returns. Every call stays inside
    one scope (a memory's, a document's microDAO, a search's): it sees only what `visible` lets that
    scope see, and an id outside it reads as missing."""

    async def add_memory(self, memory: NewMemory, index_model: str) -> StoreResult:
        """Stores and enqueues indexing with `index_model`; the same content or idempotency key of the
        same agent returns the existing id (created=False). Raises Conflict when a key is reused for
        other content."""
        ...

    async def put_document(self, document: NewDocument, index_model: str) -> DocumentResult:
        """Creates, replaces (same doc_key, new content: new chunks, same id) or keeps an unchanged one."""
        ...

    async def get(self, scope: Scope, item_id: str, model: str) -> MemoryRecord | None: ...

    async def forget(self, scope: Scope, item_id: str, tier: str) -> Forgotten | None:
        """A mid-term memory of the scope's agent, or a long-term document of the scope's microDAO."""
        ...

    async def forget_agent(self, scope: Scope) -> list[Forgotten]:
        """Every mid-term memory of the scope's agent in the scope's microDAO."""
        ...

    async def recent_turns(self, scope: Scope, channel_id: str, limit: int) -> list[ShortTermTurn]:
        """The latest `limit` conversation turns of the channel, oldest first."""
        ...

    async def vector_search(
        self, search: Search, vector: Sequence[float], model: str, per_leg: int,
    ) -> list[Candidate]:
        """The `per_leg` chunks nearest to `vector` among vectors of `model`, ranked (vector_rank set)."""
        ...

    async def text_search(self, search: Search, per_leg: int) -> list[Candidate]:
        """Up to `per_leg` chunks matching any of the query's words, ranked (text_rank set)."""
        ...

    async def unknown_words(self, search: Search, words: Sequence[str]) -> set[str]:
        """Those of `words` that no chunk the search's scope may see contains (matched as the full-text leg
        matches: by lexeme)."""
        ...


class IndexingQueue(Protocol):
    """The durable indexing queue (see domain.memory.queue for the lease and retry rules)."""

    async def claim(
        self, worker_id: str, model: str, max_jobs: int, lease_s: float, max_attempts: int,
    ) -> list[IndexJob]: ...

    async def complete(
        self, worker_id: str, model: str, dims: int, done: Sequence[IndexedJob],
        before_commit: Callable[[list[IndexJob]], Awaitable[None]],
    ) -> list[IndexJob]:
        """Writes the vectors of the jobs this worker still holds and removes those jobs, in one
        transaction; `before_commit` sees exactly those jobs. Returns them."""
        ...

    async def renew(self, worker_id: str, job_ids: Sequence[int], lease_s: float) -> None:
        """Extends the lease of the jobs this worker still holds."""
        ...

    async def fail(self, worker_id: str, failures: Sequence[JobFailure]) -> None: ...

    async def enqueue_all(self, model: str, force: bool) -> int:
        """Jobs for every item lacking vectors of `model` (all items when `force`); revives dead jobs."""
        ...

    async def stats(self) -> list[QueueStats]: ...
