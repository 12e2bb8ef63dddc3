"""Services of the stack as real processes (`daarion serve NAME`) on free ports of 127.0.0.1, configured for
tests (the stub LLM, a fake embeddings server); each can be killed and started again on its port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from tests.support import REPO, free_port, wait_for_http

STUB_MODEL = "stub"
PROXY_CONFIG = {
    "providers": {"stub": {"kind": "stub"}},
    "models": {STUB_MODEL: {"targets": [{"provider": "stub", "model": "stub-1"}]}},
    "prices": {"stub-1": {"input_per_1m": "1", "output_per_1m": "2"}},
    "limits": {"default": {"requests_per_minute": 1000000, "tokens_per_minute": 1000000000}},
}


def memory_config(embeddings_url: str, model: str) -> dict[str, Any]:
    """`model` is the embedder's label: indexing jobs are claimed per label, so a test's own label keeps its
    jobs to its own memory process on a shared database. The fake server answers `ok-...-384` with 384 dims."""
    return {
        "embedder": {"provider": "openai", "model": model, "dimensions": 384, "base_url": embeddings_url},
        "indexing": {"enabled": True, "poll_seconds": 0.05, "lease_seconds": 2, "backoff_base_seconds": 0.05,
                     "backoff_max_seconds": 0.2},
        "database": {"pool_size": 4},
    }


def runtime_config(agent: str, microdao: str, proxy: str, memory: str, toolcore: str) -> dict[str, Any]:
    return {
        "services": {"llm_proxy": {"base_url": proxy, "timeout_s": 30}, "memory": {"base_url": memory, "timeout_s": 10},
                     "toolcore": {"base_url": toolcore, "timeout_s": 10}},
        "agents": [{"id": agent, "microdao_id": microdao, "display_name": "Test", "system_prompt": "Be brief.",
                    "model": STUB_MODEL, "tools": {"include": ["time.*"]}}],
        "seed": {"on_start": False},
    }


class Service:
    """One `daarion serve SERVICE` on its own port; `start()` again after `kill()` serves the same port. Its
    output goes to `<log_dir>/<name>.log` (`name`: the service's, unless several of one service run)."""

    def __init__(self, service: str, env: dict[str, str], log_dir: Path, name: str | None = None) -> None:
        self.name = service
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._env = env
        self._log = log_dir / f"{name or service}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self._log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "apps.cli", "serve", self.name, "--port", str(self.port), "--log-level",
                 "warning"], env=self._env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 90) -> None:
        try:
            wait_for_http(self.base + "/readyz", timeout=timeout)
        except TimeoutError:
            raise AssertionError(f"{self.name} did not start:\n{self.log()[-3000:]}") from None

    def kill(self) -> None:
        """kill -9: no shutdown hook, no drain, the open transactions die with the process."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self._log.read_text(errors="replace") if self._log.exists() else ""


@contextmanager
def running(*services: Service) -> Iterator[tuple[Service, ...]]:
    """Starts them all at once, waits until each is ready; stops every one at the end."""
    try:
        for service in services:
            service.start()
        for service in services:
            service.wait_ready()
        yield services
    finally:
        for service in services:
            service.stop()


def stack_env(database_url: str, folder: Path, **extra: str) -> dict[str, str]:
    """The environment of services on `database_url` with the stub LLM config (other configs: `extra`)."""
    proxy_yaml = folder / "llm_proxy.yaml"
    proxy_yaml.write_text(yaml.safe_dump(PROXY_CONFIG))
    env = {key: value for key, value in os.environ.items() if not key.startswith("DAARION_")}
    return {**env, "DATABASE_URL": database_url, "DAARION_LLM_PROXY_CONFIG": str(proxy_yaml), **extra}


def write_yaml(path: Path, content: dict[str, Any]) -> str:
    path.write_text(yaml.safe_dump(content, allow_unicode=True))
    return str(path)
