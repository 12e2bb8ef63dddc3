"""Keys over the admin API of a real proxy: issued once, used at once, revoked everywhere within a second,
rotated with grace; only operator keys may manage them; the audit trail is in the ledger."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from domain.ledger.events import ApiKeyIssued, ApiKeyRevoked
from tests.proxy_support import auth, operator_key
from tests.support import bearer, free_port, unique_id, wait_for_http


def admin(proxy: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, proxy + "/admin" + path, headers=bearer(operator_key()), timeout=30, **kwargs)


def models(proxy: str, key: str) -> httpx.Response:
    return httpx.get(proxy + "/v1/models", headers=bearer(key), timeout=10)


def new_agent_key(proxy: str, **fields: Any) -> dict[str, Any]:
    agent = unique_id("agent:admin")
    assert admin(proxy, "POST", "/agents", json={"agent_id": agent, "microdao_id": "microdao:42"}).status_code == 201
    created = admin(proxy, "POST", "/keys", json={"agent_id": agent, "scopes": ["llm", "usage:read"], **fields})
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


@pytest.fixture(scope="module")
def second_proxy(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Another proxy process on the same database: what one process revokes, this one must refuse."""
    path = Path(tmp_path_factory.mktemp("second")) / "llm_proxy.yaml"
    path.write_text(yaml.safe_dump({"providers": {"stub": {"kind": "stub"}},
                                    "models": {"stub": {"targets": [{"provider": "stub", "model": "stub-1"}]}}}))
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "DAARION_LLM_PROXY_CONFIG": str(path)}
    process = subprocess.Popen([sys.executable, "-m", "apps.cli", "serve", "llm-proxy", "--port", str(port),
                                "--log-level", "warning"], env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(base + "/readyz", timeout=90)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_no_credential_is_a_401_that_says_how_to_authenticate(proxy: str) -> None:
    for method, path in (("POST", "/internal/llm/proxy"), ("POST", "/v1/chat/completions"), ("GET", "/v1/models"),
                         ("GET", "/internal/usage"), ("GET", "/admin/keys"), ("GET", "/metrics")):
        response = httpx.request(method, proxy + path, json={} if method == "POST" else None, timeout=10)
        assert response.status_code == 401, (path, response.text)
        # /v1 answers OpenAI's shape: its `type` is OpenAI's category, `code` the stable type.
        assert response.json()["error"]["code" if path.startswith("/v1/") else "type"] == "unauthenticated"
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_an_issued_key_is_shown_once_works_at_once_and_is_never_listed_with_its_secret(proxy: str) -> None:
    issued = new_agent_key(proxy, name="ci bot", expires_in_s=3600, monthly_budget_usd="2.5")
    key, record = issued["key"], issued["record"]
    assert key.startswith(f"dk_{record['key_id']}_")
    assert models(proxy, key).status_code == 200
    listed = admin(proxy, "GET", "/keys", params={"agent_id": record["agent_id"]})
    assert [k["key_id"] for k in listed.json()] == [record["key_id"]]
    assert key not in listed.text and key[20:] not in listed.text
    assert Decimal(listed.json()[0]["monthly_budget_usd"]) == Decimal("2.5") and listed.json()[0]["expires_at"]


def test_a_revoked_key_is_refused_by_another_process_within_a_second(proxy: str, second_proxy: str) -> None:
    key = new_agent_key(proxy)["key"]
    assert models(second_proxy, key).status_code == 200
    key_id = key.split("_")[1]
    assert admin(proxy, "DELETE", f"/keys/{key_id}").status_code == 200
    revoked_at = time.monotonic()
    while models(second_proxy, key).status_code == 200:
        assert time.monotonic() - revoked_at < 1.0, "the second process still accepts a revoked key"
        time.sleep(0.02)
    refused = models(second_proxy, key)
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]["message"]
    assert time.monotonic() - revoked_at < 1.0


def test_a_key_issued_in_one_process_works_in_another_at_once(proxy: str, second_proxy: str) -> None:
    assert models(second_proxy, new_agent_key(proxy)["key"]).status_code == 200


def test_rotation_hands_out_a_new_key_and_ends_the_old_one_after_its_grace(proxy: str) -> None:
    old = new_agent_key(proxy)
    rotated = admin(proxy, "POST", f"/keys/{old['record']['key_id']}/rotate", json={"grace_s": 0})
    assert rotated.status_code == 201, rotated.text
    assert models(proxy, rotated.json()["key"]).status_code == 200
    assert models(proxy, old["key"]).status_code == 401
    graceful = new_agent_key(proxy)
    admin(proxy, "POST", f"/keys/{graceful['record']['key_id']}/rotate", json={"grace_s": 600})
    assert models(proxy, graceful["key"]).status_code == 200  # still inside its grace


def test_a_disabled_agents_keys_are_refused_as_an_unknown_agent(proxy: str) -> None:
    issued = new_agent_key(proxy)
    assert admin(proxy, "DELETE", f"/agents/{issued['record']['agent_id']}").status_code == 200
    deadline = time.monotonic() + 2
    while (response := models(proxy, issued["key"])).status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert response.status_code == 403 and response.json()["error"]["code"] == "unknown_agent"


def test_agent_keys_cannot_manage_keys_and_a_missing_scope_is_a_403(proxy: str) -> None:
    response = httpx.get(proxy + "/admin/keys", headers=auth(), timeout=10)
    assert response.status_code == 403 and response.json()["error"]["type"] == "insufficient_scope"
    memory_only = admin(proxy, "POST", "/keys", json={"agent_id": "agent:sofia", "scopes": ["memory:read"]}).json()
    refused = httpx.post(proxy + "/v1/chat/completions", headers=bearer(memory_only["key"]), timeout=10,
                         json={"model": "stub", "messages": [{"role": "user", "content": "hi"}]})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "insufficient_scope"


def test_keys_for_unregistered_agents_and_bad_scopes_are_refused(proxy: str) -> None:
    ghost = admin(proxy, "POST", "/keys", json={"agent_id": unique_id("agent:ghost"), "scopes": ["llm"]})
    assert ghost.status_code == 403 and ghost.json()["error"]["type"] == "unknown_agent"
    bad = admin(proxy, "POST", "/keys", json={"agent_id": "agent:sofia", "scopes": ["llm", "root"]})
    assert bad.status_code == 400 and "root" in bad.json()["error"]["message"]


def test_issuing_and_revoking_are_in_the_ledger_with_the_operator_who_did_it(proxy: str, ledger: Any) -> None:
    issued = new_agent_key(proxy)
    key_id = issued["record"]["key_id"]
    admin(proxy, "DELETE", f"/keys/{key_id}")
    operator_id = operator_key().split("_")[1]
    found: list[Any] = []
    position = 1
    while batch := ledger.recorder.select_notifications(start=position, limit=1000):
        found += [e for e in map(ledger.mapper.to_domain_event, batch) if getattr(e, "key_id", None) == key_id]
        position = batch[-1].id + 1
    assert [(type(e), e.actor) for e in found] == [(ApiKeyIssued, operator_id), (ApiKeyRevoked, operator_id)]
    assert issued["key"] not in repr([e.__dict__ for e in found])


def test_an_agents_usage_report_holds_only_its_own_rows(proxy: str) -> None:
    report = httpx.get(proxy + "/internal/usage", params={"group_by": "agent"}, headers=auth(), timeout=30)
    assert report.status_code == 200
    assert {row["key"] for row in report.json()["rows"]} <= {"agent:sofia"}
    everyone = httpx.get(proxy + "/internal/usage", params={"group_by": "agent"}, headers=bearer(operator_key()))
    assert everyone.status_code == 200
