"""HttpToolExecutor against a real local upstream: timeouts, retries only when allowed, size caps, redaction."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Any

import pytest

from domain.tools.model import ToolFailure
from infra.tools.yaml_config import SecretHeader
from tests.integration.tools.toolcore_helpers import (  # noqa: F401 - fixtures imported under their own names
    Sleeps,
    call,
    close_clients_fixture,
    executor,
    internal_clients,
    tool,
    upstream_fixture,
)
from tests.support import free_port
from tests.tool_upstream import Upstream

Served = tuple[str, Upstream]


async def failure_of(coroutine: Awaitable[Any]) -> ToolFailure:
    with pytest.raises(ToolFailure) as raised:
        await coroutine
    return raised.value


async def test_a_slow_upstream_ends_as_a_timeout_at_the_tools_limit(upstream: Served) -> None:
    base, _ = upstream
    started = time.monotonic()
    failure = await failure_of(executor(f"{base}/slow?s=3", internal_clients(base))
                               .execute(tool(timeout_s=0.3), call(), attempts=1))
    assert failure.type == "timeout"
    assert time.monotonic() - started < 1.5


async def test_5xx_is_retried_with_growing_jittered_backoff_when_attempts_allow(upstream: Served) -> None:
    base, app = upstream
    sleeps = Sleeps()
    result = await executor(f"{base}/flaky/a?fail=2", internal_clients(base), sleeps=sleeps).execute(
        tool(), call(), attempts=3)
    assert result["ok"] is True and app.hits["/flaky/a"] == 3
    first, second = sleeps.delays
    assert 0.05 <= first <= 0.1 and 0.1 <= second <= 0.2


async def test_a_call_granted_one_attempt_is_never_retried(upstream: Served) -> None:
    base, app = upstream
    sleeps = Sleeps()
    failure = await failure_of(executor(f"{base}/flaky/b?fail=2", internal_clients(base), sleeps=sleeps)
                               .execute(tool(), call(), attempts=1))
    assert (failure.type, failure.status) == ("upstream_error", 503)
    assert app.hits["/flaky/b"] == 1 and sleeps.delays == []


async def test_timeouts_are_retried_when_attempts_allow(upstream: Served) -> None:
    base, app = upstream
    failure = await failure_of(executor(f"{base}/slow?s=1", internal_clients(base))
                               .execute(tool(timeout_s=0.2), call(), attempts=2))
    assert failure.type == "timeout" and app.hits["/slow"] >= 2


async def test_connect_errors_are_retried_when_attempts_allow() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    sleeps = Sleeps()
    failure = await failure_of(executor(f"{dead}/x", internal_clients(dead), sleeps=sleeps)
                               .execute(tool(), call(), attempts=3))
    assert failure.type == "upstream_error" and len(sleeps.delays) == 2


async def test_a_4xx_is_the_upstreams_answer_and_is_not_retried(upstream: Served) -> None:
    base, app = upstream
    failure = await failure_of(executor(f"{base}/missing", internal_clients(base)).execute(tool(), call(), 3))
    assert (failure.type, failure.status) == ("upstream_rejected", 404)
    assert "no such thing" in failure.message and app.hits["/missing"] == 1


async def test_a_body_over_the_cap_is_cut_off_as_result_too_large(upstream: Served) -> None:
    base, _ = upstream
    failure = await failure_of(executor(f"{base}/big?n=200000", internal_clients(base))
                               .execute(tool(max_result_bytes=1000), call(), 1))
    assert failure.type == "result_too_large"


async def test_json_that_does_not_parse_is_an_invalid_result_and_text_comes_back_as_text(upstream: Served) -> None:
    base, _ = upstream
    failure = await failure_of(executor(f"{base}/not-json", internal_clients(base)).execute(tool(), call(), 1))
    assert failure.type == "invalid_result"
    assert await executor(f"{base}/text", internal_clients(base)).execute(tool(), call(), 1) == "plain words"


async def test_a_secret_header_reaches_the_upstream_but_an_echo_of_it_is_redacted(
    upstream: Served, monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, app = upstream
    monkeypatch.setenv("TEST_UPSTREAM_TOKEN", "tok-3f9a61c2")
    secrets = [SecretHeader("Authorization", "TEST_UPSTREAM_TOKEN", "Bearer ")]
    result = await executor(f"{base}/echo-headers", internal_clients(base), secrets=secrets).execute(tool(), call(), 1)
    assert app.headers[-1]["authorization"] == "Bearer tok-3f9a61c2"
    assert result["headers"]["authorization"] == "Bearer [redacted]"
    assert "tok-3f9a61c2" not in str(result)


async def test_a_redirect_that_stays_on_the_internal_origin_is_followed(upstream: Served) -> None:
    base, _ = upstream
    result = await executor(f"{base}/redirect?to=/ok", internal_clients(base)).execute(tool(), call(), 1)
    assert result["ok"] is True
