"""Several real proxy processes (`daarion serve llm-proxy`) on 127.0.0.1, sharing the session's database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from tests.support import free_port, wait_for_http


@contextmanager
def proxy_processes(database_url: str, config: dict[str, Any], folder: Path, count: int = 2) -> Iterator[list[str]]:
    """Yields the base URLs of `count` proxies started with `config` as their llm_proxy.yaml."""
    path = folder / "llm_proxy.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "DATABASE_URL": database_url, "DAARION_LLM_PROXY_CONFIG": str(path)}
    ports = [free_port() for _ in range(count)]
    processes = [
        subprocess.Popen([sys.executable, "-m", "apps.cli", "serve", "llm-proxy", "--port", str(port),
                          "--log-level", "warning"], env=env)
        for port in ports
    ]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base in bases:
            wait_for_http(base + "/readyz", timeout=90)
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
