"""Where the agent runtime reaches a service: one base URL, or the URLs of its replicas.

Replicas share the load round-robin (each call starts at the next replica) and a replica that refuses the
connection (down, restarting, not there) passes the call to the one after it. Only a refused or timed-out
connect moves on, since then nothing was sent; a call that reached a replica and failed there is not
repeated elsewhere (an LLM call or a tool call may have taken effect).
"""

from __future__ import annotations

import aiohttp
import msgspec

# Raised before any byte of the request left: safe to try the next replica.
NOTHING_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)


class ServiceEndpoint(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    base_url: str | list[str]  # a list (or a comma-separated string, as an environment variable gives) = replicas
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if not self.base_urls:
            raise ValueError("base_url needs at least one URL")

    @property
    def base_urls(self) -> tuple[str, ...]:
        urls = self.base_url.split(",") if isinstance(self.base_url, str) else self.base_url
        return tuple(url.strip().rstrip("/") for url in urls if url.strip())

    def timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=self.timeout_s, connect=min(self.timeout_s, 3.0))


class Rotation:
    """The order in which one call tries a service's replicas: each call of a kind (method and path) starts
    one further along than the last of that kind. Turns per kind, not per service: a turn makes its calls in
    a fixed sequence (memory: a query, then a store), and one rotation for all of them would send every query
    to one replica and every store to the other. The clients' paths are fixed, so the kinds are few."""

    def __init__(self) -> None:
        self._next: dict[tuple[str, str, tuple[str, ...]], int] = {}

    def order(self, method: str, path: str, urls: tuple[str, ...]) -> tuple[str, ...]:
        if len(urls) == 1:
            return urls
        kind = (method, path, urls)
        start = self._next.get(kind, 0)
        self._next[kind] = (start + 1) % len(urls)
        return urls[start:] + urls[:start]
