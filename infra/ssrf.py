"""SSRF guard for the HTTP executor, built on `ssrfguard` (evaluated and adopted; see below).

Why ssrfguard: it resolves a name once, checks every answer against an IANA-derived table (loopback,
RFC 1918, link-local incl. 169.254.169.254, CGNAT, multicast, and IPv4 carried inside ::ffff:,
::/96, 64:ff9b::, 6to4 and Teredo are decoded and judged by what they carry), then connects to the
checked *address* (never re-resolving the name: no DNS rebinding window) and verifies the peer. It
refuses encoded hosts (`2130706433`, `0177.0.0.1`, `127.1`), userinfo tricks, proxies, unix sockets,
and re-checks every redirect hop through the same transport, counting hops itself. It has no
runtime dependencies and does no I/O of its own beyond the lookup; we read its source before use.

One client per reach: the public client may reach public addresses on `outbound.allowed_ports`; each
internal service gets its own client whose policy admits exactly that scheme, host, port and its
networks. An internal allowance therefore never leaks to another tool's origin, and a redirect from
an internal service to anywhere else is refused like any other hop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ipaddress import ip_address

import httpx
from ssrfguard import Policy, Resolver
from ssrfguard.httpx import AsyncClient

Origin = tuple[str, str, int]


class InternalOrigin:
    def __init__(self, origin: Origin, networks: Iterable[str]) -> None:
        self.origin = origin
        host = origin[1]
        nets = list(networks)
        if not nets:
            try:
                address = ip_address(host)
            except ValueError:
                raise ValueError(f"internal service host {host!r} is a name: list the `networks` it may resolve "
                                 f"into") from None
            nets = [f"{address}/{address.max_prefixlen}"]
        self.networks = tuple(nets)


class OutboundClients:
    def __init__(
        self,
        allowed_ports: Iterable[int],
        max_redirects: int,
        internal: Iterable[InternalOrigin] = (),
        resolver: Resolver | None = None,
        limits: httpx.Limits | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=200, max_keepalive_connections=50)
        public = Policy(allowed_ports=frozenset(allowed_ports), max_redirects=max_redirects)
        self._public = _client(public, resolver, limits)
        self._internal: dict[Origin, AsyncClient] = {}
        for service in internal:
            scheme, host, port = service.origin
            policy = Policy(
                allowed_schemes=frozenset({scheme}), allowed_hosts=frozenset({host}),
                allowed_networks=service.networks, allowed_ports=frozenset({port}), max_redirects=max_redirects,
            )
            self._internal[service.origin] = _client(policy, resolver, limits)

    def for_origin(self, origin: Origin) -> AsyncClient:
        return self._internal.get(origin, self._public)

    def is_internal(self, origin: Origin) -> bool:
        return origin in self._internal

    @property
    def clients(self) -> Mapping[Origin | None, AsyncClient]:
        return {None: self._public, **self._internal}

    async def aclose(self) -> None:
        for client in self.clients.values():
            await client.aclose()


def _client(policy: Policy, resolver: Resolver | None, limits: httpx.Limits) -> AsyncClient:
    # trust_env=False: proxies from the environment would resolve names themselves, beyond the pin.
    return AsyncClient(policy=policy, resolver=resolver, trust_env=False, limits=limits, follow_redirects=True)
