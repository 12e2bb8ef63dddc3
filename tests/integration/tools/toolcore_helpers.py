"""Shared pieces of the Toolcore executor tests: a local upstream, tools aimed at it, a connection spy."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import aiohappyeyeballs
import pytest

from domain.tools.model import ToolCall, ToolDefinition
from infra.tools.executors.http_executor import HttpToolExecutor
from infra.tools.executors.http_request import HttpTarget, origin_of
from infra.tools.ssrf import InternalOrigin, OutboundClients
from infra.tools.yaml_config import SecretHeader
from tests.support import serve_in_thread
from tests.tool_upstream import Upstream

OPEN_OBJECT: dict[str, Any] = {"type": "object"}


def tool(tool_id: str = "up.get", timeout_s: float = 2.0, max_result_bytes: int = 65536) -> ToolDefinition:
    return ToolDefinition(tool_id, "test tool", OPEN_OBJECT, "http", timeout_s=timeout_s,
                          max_result_bytes=max_result_bytes)


def target(url: str, method: str = "GET", secrets: list[SecretHeader] | None = None) -> HttpTarget:
    return HttpTarget(method, url, origin_of(url), {}, None, {}, secrets or [], True)


def call(tool_id: str = "up.get", args: dict[str, Any] | None = None) -> ToolCall:
    return ToolCall("req_test", tool_id, "agent:sofia", args or {}, "microdao:7")


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def executor(url: str, clients: OutboundClients, tool_id: str = "up.get",
             secrets: list[SecretHeader] | None = None, sleeps: Sleeps | None = None) -> HttpToolExecutor:
    return HttpToolExecutor({tool_id: target(url, secrets=secrets)}, clients, sleep=sleeps or Sleeps())


_OPEN: list[OutboundClients] = []


def internal_clients(*bases: str, allowed_ports: tuple[int, ...] = (80, 443)) -> OutboundClients:
    """Sessions where each base URL is an internal service (closed after the test by `close_clients`)."""
    _OPEN.append(OutboundClients(allowed_ports, 3, [InternalOrigin(origin_of(base), []) for base in bases]))
    return _OPEN[-1]


def public_clients(*extra_ports: int) -> OutboundClients:
    """Sessions with no internal service at all; the public policy also admits `extra_ports`."""
    _OPEN.append(OutboundClients((80, 443, *extra_ports), 3))
    return _OPEN[-1]


@pytest.fixture(name="close_clients", autouse=True)
async def close_clients_fixture() -> AsyncIterator[None]:
    yield
    while _OPEN:
        await _OPEN.pop().aclose()


@pytest.fixture(scope="module", name="upstream")
def upstream_fixture() -> Iterator[tuple[str, Upstream]]:
    app = Upstream()
    with serve_in_thread(app) as base:
        yield base, app


class ConnectionSpy:
    """Records every TCP connection the guarded sessions open (aiohttp connects through
    aiohappyeyeballs.start_connection) and refuses any to a non-loopback address, so a guard that
    failed would fail the test instead of sending a packet off this machine."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, int]] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real = aiohappyeyeballs.start_connection

        async def spying(addr_infos: Sequence[Any], **kwargs: Any) -> Any:
            for *_, sockaddr in addr_infos:
                self.attempts.append((str(sockaddr[0]), int(sockaddr[1])))
                if str(sockaddr[0]) not in ("127.0.0.1", "::1"):
                    raise AssertionError(f"a connection to {sockaddr[0]}:{sockaddr[1]} was attempted")
            return await real(addr_infos, **kwargs)

        monkeypatch.setattr(aiohappyeyeballs, "start_connection", spying)


@pytest.fixture(name="spy")
def spy_fixture(monkeypatch: pytest.MonkeyPatch) -> ConnectionSpy:
    connections = ConnectionSpy()
    connections.install(monkeypatch)
    return connections
