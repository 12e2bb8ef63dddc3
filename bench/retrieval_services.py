"""The pipelines bench/retrieval_quality.py compares, each a memory service of its own on one database.

A pipeline is today's config/memory.yaml with a few keys laid over it (the switches under test). Every
service runs without its in-process indexing worker: the bench indexes with each model itself, so all
pipelines query the same stored memories, each with the vectors of its own model.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.proxy_overhead import wait_ready

ROOT = Path(__file__).resolve().parent.parent
E5 = {"embedder": {"provider": "e5"}}
NEW = {"embedder": {"provider": "e5"}, "retrieval": {"prefix_stems": True, "neighbours": True}}


@dataclass(frozen=True)
class Pipeline:
    name: str
    overlay: dict[str, Any]


def merged(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in overlay.items():
        result[key] = merged(result.get(key, {}), value) if isinstance(value, dict) else value
    return result


def settings_of(overlay: dict[str, Any]) -> dict[str, Any]:
    shipped = yaml.safe_load((ROOT / "config" / "memory.yaml").read_text())
    return merged(shipped, merged({"indexing": {"enabled": False}}, overlay))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(pipelines: list[Pipeline], env: dict[str, str]) -> Iterator[dict[str, str]]:
    """Base URLs by pipeline name, each service a process of its own (so the bench's client and the
    services do not share a GIL)."""
    children: list[subprocess.Popen[bytes]] = []
    urls: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="retrieval-bench-") as directory:
        try:
            for pipeline in pipelines:
                config = Path(directory) / f"{len(children)}.yaml"
                config.write_text(yaml.safe_dump(settings_of(pipeline.overlay)))
                port = free_port()
                children.append(subprocess.Popen(
                    [sys.executable, "-m", "apps.cli", "serve", "memory", "--port", str(port), "--log-level",
                     "warning"], env={**env, "DAARION_MEMORY_CONFIG": str(config)}, cwd=ROOT))
                urls[pipeline.name] = f"http://127.0.0.1:{port}"
            for url in urls.values():
                wait_ready(f"{url}/readyz", timeout=180)
            yield urls
        finally:
            for child in children:
                child.terminate()
            for child in children:
                child.wait(60)
