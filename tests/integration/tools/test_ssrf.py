"""SSRF attempts through the HTTP executor are refused before any connection is opened.

The connection spy refuses (and records) any TCP connect to a non-loopback address, so a guard that
let one through would fail here rather than send a packet; the cases below also assert that no
connection at all was attempted. Public origins are allowed the upstream's port, so every refusal
below is about the address, not the port.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from domain.tools.model import ToolFailure
from infra.tools.ssrf import OutboundClients
from tests.integration.tools.toolcore_helpers import (  # noqa: F401 - fixtures imported under their own names
    ConnectionSpy,
    call,
    close_clients_fixture,
    executor,
    internal_clients,
    public_clients,
    spy_fixture,
    tool,
    upstream_fixture,
)
from tests.tool_upstream import Upstream

Served = tuple[str, Upstream]


def port_of(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


async def refusal(url: str, clients: OutboundClients) -> ToolFailure:
    with pytest.raises(ToolFailure) as raised:
        await executor(url, clients).execute(tool(), call(), attempts=3)
    return raised.value


@pytest.mark.parametrize("host", [
    "127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "[::1]", "[::ffff:127.0.0.1]",
    "[::ffff:a9fe:a9fe]", "[::ffff:10.0.0.1]", "[64:ff9b::7f00:1]", "[fd00:ec2::254]", "0.0.0.0",
    "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "017700000001", "localhost",
])
async def test_a_public_tool_aimed_at_an_internal_address_is_refused_without_connecting(
    host: str, upstream: Served, spy: ConnectionSpy,
) -> None:
    port = port_of(upstream[0])
    failure = await refusal(f"http://{host}:{port}/latest/meta-data/", public_clients(port))
    assert failure.type == "blocked", failure.message
    assert spy.attempts == []
    assert upstream[1].hits["/latest/meta-data/"] == 0


async def test_a_name_that_resolves_to_loopback_is_refused_without_connecting(
    upstream: Served, spy: ConnectionSpy, monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = socket.getaddrinfo

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1", *args, **kwargs) if host == "tools.attacker.example" else real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    port = port_of(upstream[0])
    failure = await refusal(f"http://tools.attacker.example:{port}/ok", public_clients(port))
    assert failure.type == "blocked" and "127.0.0.1" in failure.message
    assert spy.attempts == []


@pytest.mark.parametrize("location", [
    "http://10.0.0.7/admin", "http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/",
    "http://localhost:{port}/ok", "http://127.0.0.1:1/", "file:///etc/passwd",
])
async def test_a_redirect_from_an_internal_service_to_anywhere_else_is_refused(
    location: str, upstream: Served, spy: ConnectionSpy,
) -> None:
    base, _ = upstream
    target = location.replace("{port}", str(port_of(base)))
    failure = await refusal(f"{base}/redirect?to={target}", internal_clients(base))
    assert failure.type in ("blocked", "upstream_error"), failure.message
    assert "refused" in failure.message or "redirect" in failure.message
    assert spy.attempts == [("127.0.0.1", port_of(base))]  # the internal service itself, nothing after it


async def test_the_internal_allowance_is_for_that_origin_only(upstream: Served, spy: ConnectionSpy) -> None:
    base, _ = upstream
    other_port = port_of(base) + 1
    failure = await refusal(f"http://127.0.0.1:{other_port}/ok", internal_clients(base, allowed_ports=(other_port,)))
    assert failure.type == "blocked"
    assert spy.attempts == []
