"""The pipelines bench/retrieval_quality.py compares, each a memory service of its own on one database.

A pipeline is today's config/memory.yaml with a few keys laid over it (the switches under test). Every
service runs without its in-process indexing worker: the bench indexes with each model itself, so all
pipelines query the same stored memories, each with the vectors of its own model.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.proxy_overhead import wait_ready

ROOT = Path(__file__).resolve().parent.parent
# Today's pipeline spelled out, so the comparison holds whatever config/memory.yaml ships.
TODAY = {"search": {"text_ranking": "ts_rank", "bm25_neighbour_weight": 0.0, "vector_neighbour_weight": 0.0,
                    "reranker": "exact",
                    "cyrillic_reranker": None},
         "ranking": {"rrf_k": 60},
         "retrieval": {"prefix_stems": False, "drop_unknown_names": False, "temporal_boost": 0.0,
                       "rerank": {"enabled": False}}}
E5 = {"embedder": {"provider": "e5"}}
STEMS = {"retrieval": {"prefix_stems": True}}
BM25 = {"search": {"text_ranking": "bm25"}}
RRF10 = {"ranking": {"rrf_k": 10}}
NAMES = {"retrieval": {"drop_unknown_names": True}}
DATES = {"retrieval": {"temporal_boost": 0.5}}
NEIGHBOURS = {"search": {"bm25_neighbour_weight": 0.3}}
LATE = {"search": {"reranker": "late_interaction"}, "retrieval": {"rerank": {"enabled": True}}}
LATENT_TERMS = {"search": {"cyrillic_reranker": "latent_terms"}}


@dataclass(frozen=True)
class Pipeline:
    name: str
    overlay: dict[str, Any]


def merged(base: dict[str, Any], *overlays: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for overlay in overlays:
        for key, value in overlay.items():
            result[key] = merged(result.get(key, {}), value) if isinstance(value, dict) else value
    return result


# Near-duplicate merging is off while conversations load: every exchange must stay a memory of its own for
# the evidence labels to point at, and whether one merges would depend on whether its neighbour's vector
# was written yet (the bench indexes after loading), not on the pipeline under test.
BENCH = {"indexing": {"enabled": False}, "near_duplicates": {"threshold": None}}


def settings_of(overlay: dict[str, Any]) -> dict[str, Any]:
    shipped = yaml.safe_load((ROOT / "config" / "memory.yaml").read_text())
    return merged(shipped, TODAY, BENCH, overlay)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(pipelines: list[Pipeline]) -> Iterator[dict[str, str]]:
    """Base URLs by pipeline name. The services run in this process, each on a thread of its own: they
    share the loaded models (a process per pipeline took ten minutes to start on the busy 2-core machine),
    and queries go one at a time, so they rarely wait on each other for the GIL."""
    import msgspec
    import uvicorn

    from apps.common.http_server import SERVER_OPTIONS
    from apps.memory.app import create_app
    from apps.memory.settings import MemorySettings

    servers: list[tuple[uvicorn.Server, threading.Thread]] = []
    urls: dict[str, str] = {}
    try:
        for pipeline in pipelines:
            app = create_app(msgspec.convert(settings_of(pipeline.overlay), MemorySettings))
            port = free_port()
            server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                                   lifespan="on", **SERVER_OPTIONS))
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            servers.append((server, thread))
            urls[pipeline.name] = f"http://127.0.0.1:{port}"
        for url in urls.values():
            wait_ready(f"{url}/readyz", timeout=300)
        yield urls
    finally:
        for server, _ in servers:
            server.should_exit = True
        for _, thread in servers:
            thread.join(60)
