"""Embeddings through the DAARION LLM proxy's POST /v1/embeddings, so embedding spend is in the usage ledger
per agent like chat, under the proxy's routes, limits and budgets.

Whose key pays: inside a request that forwards its caller's credential (`forwarding(credential)`: the memory
service does so around a query, whose text it embeds), that caller's agent; otherwise (the indexing worker,
which embeds many agents' memories in one batch) the key configured for the memory service.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from domain.kernel.credential import Credential
from domain.kernel.errors import ServiceUnavailable
from infra.memory.embedders.openai_embedder import OpenAIEmbedder

_forwarded: ContextVar[Credential | None] = ContextVar("daarion_forwarded_credential", default=None)


@contextmanager
def forwarding(credential: Credential | None) -> Iterator[None]:
    """Embeddings made inside the block are billed to `credential`'s agent."""
    token = _forwarded.set(credential)
    try:
        yield
    finally:
        _forwarded.reset(token)


class ProxyEmbedder(OpenAIEmbedder):
    def __init__(self, model: str, dimensions: int, proxy_url: str, service_key: str | None = None,
                 batch_size: int = 64, timeout_s: float = 30.0, send_dimensions: bool = False) -> None:
        super().__init__(model, dimensions, proxy_url, None, batch_size, timeout_s, send_dimensions)
        self._service_key = Credential(service_key) if service_key else None

    def _call_headers(self) -> dict[str, str]:
        credential = _forwarded.get() or self._service_key
        if credential is None:
            raise ServiceUnavailable("the memory service has no key for the LLM proxy: set the variable its "
                                     "embedder's `api_key_env` names to an agent key with the llm scope")
        return {"authorization": f"Bearer {credential.reveal()}"}
