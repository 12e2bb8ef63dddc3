"""Embeddings through the DAARION LLM proxy's POST /v1/embeddings, so embedding spend is in the usage ledger
per agent like chat, under the proxy's routes, limits and budgets.

Whose key pays: inside a request that forwards its caller's credential (`forwarding(credential)`: the memory
service does so around a query, whose text it embeds), that caller's agent; otherwise the key configured for
the memory service. When that key is an operator's with `llm:on_behalf` (`on_behalf=True`), each call made
inside `billed_to(agent, microdao)` names that agent, so the indexing worker's embeddings are each agent's
spend; an agent key (the older setup) pays for all of them itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

import httpx

from domain.kernel.credential import Credential
from domain.kernel.errors import ServiceUnavailable
from infra.memory.embedders.openai_embedder import OpenAIEmbedder

_forwarded: ContextVar[Credential | None] = ContextVar("daarion_forwarded_credential", default=None)
_billed_to: ContextVar[tuple[str, str] | None] = ContextVar("daarion_embeddings_billed_to", default=None)


@contextmanager
def forwarding(credential: Credential | None) -> Iterator[None]:
    """Embeddings made inside the block are billed to `credential`'s agent."""
    token = _forwarded.set(credential)
    try:
        yield
    finally:
        _forwarded.reset(token)


@contextmanager
def billed_to(agent_id: str, microdao_id: str) -> Iterator[None]:
    """Embeddings made inside the block with the service key are named as `agent_id`'s (when it may)."""
    token = _billed_to.set((agent_id, microdao_id))
    try:
        yield
    finally:
        _billed_to.reset(token)


class ProxyEmbedder(OpenAIEmbedder):
    def __init__(self, model: str, dimensions: int, proxy_url: str, service_key: str | None = None,
                 batch_size: int = 64, timeout_s: float = 30.0, send_dimensions: bool = False,
                 on_behalf: bool = False,
                 event_hooks: Mapping[str, Sequence[Callable[[httpx.Request], Awaitable[None]]]] | None = None) -> None:
        super().__init__(model, dimensions, proxy_url, None, batch_size, timeout_s, send_dimensions, event_hooks)
        self._service_key = Credential(service_key) if service_key else None
        self._on_behalf = on_behalf

    def _call_headers(self) -> dict[str, str]:
        if (forwarded := _forwarded.get()) is not None:
            return {"authorization": f"Bearer {forwarded.reveal()}"}
        if self._service_key is None:
            raise ServiceUnavailable("the memory service has no key for the LLM proxy: set the variable its "
                                     "embedder's `api_key_env` names (an agent key with the llm scope, or an "
                                     "operator key with llm:on_behalf and `on_behalf: true`)")
        headers = {"authorization": f"Bearer {self._service_key.reveal()}"}
        if self._on_behalf and (tenant := _billed_to.get()) is not None:
            headers["x-daarion-agent-id"], headers["x-daarion-microdao-id"] = tenant
        return headers
