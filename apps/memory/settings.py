"""The memory service's settings: config/memory.yaml (or DAARION_MEMORY_CONFIG) with the environment laid over
it (infra.platform.settings), parsed once into Structs at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import msgspec

from domain.memory.chunking import ChunkingPolicy
from domain.memory.model import MemoryLimits
from domain.memory.near_duplicates import NearDuplicatePolicy
from domain.memory.queue import IndexingPolicy
from domain.memory.ranking import RankingPolicy
from domain.memory.retrieval import RetrievalPolicy
from infra.memory.pg_memory_store import INDEXED_DIMENSIONS
from infra.memory.pg_search_sql import TextRanking
from infra.platform.settings import LedgerSettings, config_path, load_settings


class EmbedderSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    # proxy: the LLM proxy's /v1/embeddings (base_url its /v1, model a logical embeddings model; api_key_env names
    # the key the indexing worker pays with; a query is paid by its caller's key). on_behalf: that key is an
    # operator key with llm:on_behalf, and each memory's embedding is billed to its own agent.
    provider: Literal["minilm", "e5", "ollama", "openai", "proxy"] = "minilm"
    model: str = ""
    dimensions: int = 384
    base_url: str = ""
    api_key_env: str = "OPENAI_API_KEY"
    send_dimensions: bool = False
    on_behalf: bool = False
    batch_size: int = 32
    timeout_s: float = 30.0
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.dimensions not in INDEXED_DIMENSIONS:
            raise ValueError(f"dimensions must be one with an HNSW index: {', '.join(map(str, INDEXED_DIMENSIONS))}"
                             " (another size needs a migration adding its index)")
        if self.provider not in ("minilm", "e5") and not self.model:
            raise ValueError(f"the {self.provider} embedder needs `model`")
        if self.on_behalf and self.provider != "proxy":
            raise ValueError("on_behalf is for the proxy embedder only")
        if self.provider in ("minilm", "e5") and self.dimensions != 384:
            raise ValueError(f"the in-process {self.provider} model makes 384-dimensional vectors")
        if self.batch_size < 1 or self.timeout_s <= 0:
            raise ValueError("batch_size must be at least 1 and timeout_s positive")


RerankerName = Literal["exact", "late_interaction", "latent_terms"]


class SearchSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    hnsw_ef_search: int = 80
    common_lexeme_docs: int = 200
    text_ranking: Literal["ts_rank", "bm25"] = "ts_rank"
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    bm25_neighbour_weight: float = 0.0
    vector_neighbour_weight: float = 0.0
    rerank_lexical_weight: float = 0.3
    reranker: RerankerName = "exact"
    cyrillic_reranker: RerankerName | None = None  # None: the same as `reranker`

    def __post_init__(self) -> None:
        if not 1 <= self.hnsw_ef_search <= 1000:
            raise ValueError("hnsw_ef_search must be between 1 and 1000")
        if self.common_lexeme_docs < 1 or self.rerank_lexical_weight < 0:
            raise ValueError("common_lexeme_docs must be at least 1 and rerank_lexical_weight not negative")
        if min(self.bm25_k1, self.bm25_neighbour_weight, self.vector_neighbour_weight) < 0 or not 0 <= self.bm25_b <= 1:
            raise ValueError("bm25_k1 and the neighbour weights must not be negative, bm25_b must be between 0 and 1")

    def text_ranking_policy(self) -> TextRanking:
        return TextRanking(self.text_ranking, self.common_lexeme_docs, self.bm25_k1, self.bm25_b,
                           self.bm25_neighbour_weight)


class DatabaseSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pool_size: int = 10


class MemorySettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    embedder: EmbedderSettings = EmbedderSettings()
    limits: MemoryLimits = MemoryLimits()
    chunking: ChunkingPolicy = ChunkingPolicy()
    ranking: RankingPolicy = RankingPolicy()
    retrieval: RetrievalPolicy = RetrievalPolicy()
    indexing: IndexingPolicy = IndexingPolicy()
    search: SearchSettings = SearchSettings()
    near_duplicates: NearDuplicatePolicy = NearDuplicatePolicy()
    database: DatabaseSettings = DatabaseSettings()
    ledger: LedgerSettings = LedgerSettings()
    metrics_refresh_seconds: float = 5.0


def load_memory_settings(path: Path | None = None) -> MemorySettings:
    return load_settings(MemorySettings, "memory", path or config_path("memory.yaml", "DAARION_MEMORY_CONFIG"))
