"""A service given as several replicas: the runtime's calls take turns over them, and a replica that refuses
the connection passes the call on to the next, one URL stays valid config; real HTTP servers on 127.0.0.1."""

from __future__ import annotations

from collections import Counter

import msgspec
import pytest
from litestar import Litestar, post

from apps.agent_runtime.settings import RuntimeSettings
from domain.agents.model import TurnContext
from domain.kernel.errors import UpstreamFailed
from infra.agents.endpoints import ServiceEndpoint
from infra.agents.service_http import ServiceHttp
from infra.platform.config_files import ConfigError, convert
from tests.support import free_port, serve_in_thread

CONTEXT = TurnContext("req-1", "agent:sofia", "microdao:7", "chan", "member:olena")
AGENTS = [{"id": "agent:sofia", "microdao_id": "microdao:7", "display_name": "Sofia", "system_prompt": "Hi.",
           "model": "m"}]


def replica(name: str) -> Litestar:
    @post("/echo", sync_to_thread=False)
    def echo() -> dict[str, str]:
        return {"replica": name}

    return Litestar([echo])


async def test_calls_take_turns_over_the_replicas_and_a_refusing_one_passes_its_turn_on() -> None:
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    http = ServiceHttp()
    try:
        with serve_in_thread(replica("a")) as a, serve_in_thread(replica("b")) as b:
            endpoint = ServiceEndpoint([a, down, b], timeout_s=5)
            answered = Counter([(await http.call("memory", endpoint, "POST", "/echo", CONTEXT)).json()["replica"]
                                for _ in range(30)])
        assert answered == {"a": 10, "b": 20}  # down refuses its turns: the replica after it, b, takes them
        with pytest.raises(UpstreamFailed, match=f"cannot reach the memory service at {down}"):
            await http.call("memory", ServiceEndpoint(down, 5), "POST", "/echo", CONTEXT)
    finally:
        await http.aclose()


def test_one_url_a_list_or_a_comma_separated_string_name_the_replicas_and_none_is_refused() -> None:
    def services(base_url: object) -> ServiceEndpoint:
        raw = {"agents": AGENTS, "services": {"memory": {"base_url": base_url}}}
        return convert(raw, RuntimeSettings, "agents.yaml").services.memory

    assert services("http://m:7008/").base_urls == ("http://m:7008",)
    assert services(["http://m1:7008", "http://m2:7008"]).base_urls == ("http://m1:7008", "http://m2:7008")
    assert services("http://m1:7008, http://m2:7008").base_urls == ("http://m1:7008", "http://m2:7008")
    with pytest.raises(ConfigError, match=r"services.memory.base_url|services\.memory"):
        services([])
    assert msgspec.json.decode(msgspec.json.encode(services(["x"])))["base_url"] == ["x"]
