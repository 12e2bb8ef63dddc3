"""SSRF guard for the HTTP executor, built on `ssrfguard` (evaluated and adopted; see below), over aiohttp.

Why ssrfguard: it resolves a name once and checks every answer against an IANA-derived table
(loopback, RFC 1918, link-local incl. 169.254.169.254, CGNAT, multicast; IPv4 carried inside ::ffff:,
::/96, 64:ff9b::, 6to4 and Teredo is decoded and judged by what it carries). Its URL check refuses
encoded hosts (`2130706433`, `0177.0.0.1`, `127.1`), userinfo tricks and other schemes, and checks
literal addresses with no lookup at all. It has no runtime dependencies and does no I/O beyond the
lookup; we read its source before adopting it.

How it is wired: the executor runs `Policy.check_url` on every URL, redirect hops included, before
aiohttp sees it. aiohttp asks `GuardedResolver` for every name it connects to; that runs ssrfguard's
one lookup, drops nothing silently (a name with any refused answer is refused whole, the rebinding
signature) and returns only checked *addresses*, which aiohttp then connects to without resolving again
(literal addresses skip the resolver, having been checked by `check_url`). We use aiohttp rather than
ssrfguard's own httpx client because httpx costs several times the CPU per call on this hot path.

One session per reach: the public session may reach public addresses on `outbound.allowed_ports`;
each internal service gets its own session whose policy admits exactly that scheme, host, port and
networks, so an internal allowance never extends to another tool's origin. An internal host name must
resolve *into* its networks (a public answer is refused too): its tools may carry the caller's own key.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from ssrfguard import BlockedAddressError, BlockedURLError, Policy, Resolver, Target, resolve

Origin = tuple[str, str, int]
Networks = tuple[IPv4Network | IPv6Network, ...]


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
        self.networks: Networks = tuple(ip_network(net) for net in nets)


class GuardedResolver(AbstractResolver):
    """`confined_to`: when given, every answer must lie in one of these networks (an internal service's)."""

    def __init__(self, policy: Policy, lookup: Resolver | None = None, confined_to: Networks = ()) -> None:
        self._policy = policy
        self._lookup = lookup
        self.confined_to = confined_to

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET,
                      ) -> list[ResolveResult]:
        if port not in self._policy.allowed_ports:
            raise BlockedURLError(f"{host}:{port}", f"port {port} is not in allowed_ports")
        self._policy.check_host(host)
        target = Target(scheme="tcp", host=host, port=port, host_as_written=host)
        # getaddrinfo blocks and takes no timeout: off the event loop.
        answers = await asyncio.to_thread(resolve, target, policy=self._policy, resolver=self._lookup)
        for answer in answers:
            if self.confined_to and not any(answer.ip in network for network in self.confined_to):
                raise BlockedAddressError(str(answer.ip), f"{host} must resolve into its internal networks")
        return [ResolveResult(hostname=host, host=str(answer.ip), port=answer.port, family=answer.family,
                              proto=0, flags=socket.AI_NUMERICHOST) for answer in answers]

    async def close(self) -> None:
        return None


class Outbound:
    """A policy, and a session whose every connection goes to an address that policy admitted."""

    def __init__(self, policy: Policy, lookup: Resolver | None, max_connections: int,
                 confined_to: Networks = (), trace_configs: Sequence[aiohttp.TraceConfig] = ()) -> None:
        self.policy = policy
        self.resolver = GuardedResolver(policy, lookup, confined_to)
        # keepalive below uvicorn's 5 s, so we drop an idle connection before the server does.
        connector = aiohttp.TCPConnector(resolver=self.resolver, limit=max_connections,
                                         keepalive_timeout=4.0)
        # trust_env=False: no proxy from the environment (a proxy resolves names itself, beyond the guard).
        # auto_decompress=False with `Accept-Encoding: identity`: the size cap counts what arrives.
        self.session = aiohttp.ClientSession(connector=connector, trust_env=False, auto_decompress=False,
                                             skip_auto_headers=("Accept-Encoding",),
                                             trace_configs=list(trace_configs) or None)


class OutboundClients:
    """Build inside a running event loop (aiohttp sessions bind to it)."""

    def __init__(
        self,
        allowed_ports: Iterable[int],
        max_redirects: int,
        internal: Iterable[InternalOrigin] = (),
        lookup: Resolver | None = None,
        max_connections: int = 200,
        trace_configs: Sequence[aiohttp.TraceConfig] = (),
    ) -> None:
        """`trace_configs`: aiohttp's request hooks (client spans and traceparent, when tracing is on)."""
        self.max_redirects = max_redirects
        public = Policy(allowed_ports=frozenset(allowed_ports), max_redirects=max_redirects)
        self._public = Outbound(public, lookup, max_connections, trace_configs=trace_configs)
        self._internal: dict[Origin, Outbound] = {}
        for service in internal:
            scheme, host, port = service.origin
            policy = Policy(
                allowed_schemes=frozenset({scheme}), allowed_hosts=frozenset({host}),
                allowed_networks=service.networks, allowed_ports=frozenset({port}), max_redirects=max_redirects,
            )
            self._internal[service.origin] = Outbound(policy, lookup, max_connections, service.networks,
                                                      trace_configs)

    def for_origin(self, origin: Origin) -> Outbound:
        return self._internal.get(origin, self._public)

    def is_internal(self, origin: Origin) -> bool:
        return origin in self._internal

    async def aclose(self) -> None:
        for outbound in [self._public, *self._internal.values()]:
            await outbound.session.close()
