"""Every way a request can be malformed is a 4xx with the documented error body on all five services (issue 11:
bodies nested 10,000 deep and invalid UTF-8 were 500s, NUL reached PostgreSQL, text/plain created tasks, a
100 KB URL got uvicorn's plain-text 400). Real services on 127.0.0.1, called with a real agent key."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
from urllib.parse import urlsplit

import httpx
import pytest

from tests.integration.platform.hostile_stack import Stack, stack_fixture  # noqa: F401 - the `stack` fixture
from tests.support import REPO, bearer, free_port, wait_for_http

SERVICES = ["llm-proxy", "memory", "toolcore", "agent-runtime", "projects"]
each_service = pytest.mark.parametrize("name", SERVICES)


def refused(response: httpx.Response, status: int, type_: str, request_id: str | None = None, openai: bool = False,
            ) -> str:
    """Asserts the documented error body (OpenAI's on /v1, the stable type as its `code`); returns its message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    if openai:
        assert set(error) == {"type", "code", "param", "message", "request_id"} and error["code"] == type_
    else:
        assert set(error) == {"type", "message", "request_id"} and error["type"] == type_
    assert error["request_id"] == response.headers["x-request-id"]
    if request_id is not None:
        assert error["request_id"] == request_id
    return str(error["message"])


def long_get(base: str, target: str) -> httpx.Response:
    """A GET of a URL longer than httpx sends (64 KiB), over http.client."""
    address = urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
    try:
        connection.request("GET", target)
        answer = connection.getresponse()
        return httpx.Response(answer.status, headers=answer.getheaders(), content=answer.read())
    finally:
        connection.close()


@each_service
def test_json_nested_ten_thousand_deep_is_a_400_that_names_the_depth_limit(stack: Stack, name: str) -> None:
    response = stack.post(name, b"[" * 10_000 + b"]" * 10_000, **{"x-request-id": f"req-deep-{name}"})
    assert "deeper than 64" in refused(response, 400, "invalid_request", f"req-deep-{name}")


@each_service
def test_json_nested_a_hundred_deep_inside_a_valid_body_is_a_400(stack: Stack, name: str) -> None:
    body = {**stack.targets[name].valid_body, "extra": json.loads("[" * 100 + "]" * 100)}
    assert "deeper than 64" in refused(stack.post(name, json.dumps(body).encode()), 400, "invalid_request")


@each_service
def test_a_body_that_is_not_utf8_is_a_400(stack: Stack, name: str) -> None:
    body = json.dumps(stack.targets[name].valid_body).encode().replace(b'"', b'"\xff\xfe', 1)
    assert "UTF-8" in refused(stack.post(name, body), 400, "invalid_request")


@each_service
def test_a_body_that_is_not_json_is_a_400(stack: Stack, name: str) -> None:
    assert "not valid JSON" in refused(stack.post(name, b'{"title": '), 400, "invalid_request")


@each_service
def test_a_nul_character_in_a_body_string_is_a_400(stack: Stack, name: str) -> None:
    body = json.dumps({**stack.targets[name].valid_body, "note": "a\u0000b"}).encode()
    assert "NUL" in refused(stack.post(name, body), 400, "invalid_request")


@each_service
def test_a_nul_in_the_path_or_query_is_a_400_before_routing(stack: Stack, name: str) -> None:
    assert "NUL" in refused(stack.get(name, stack.targets[name].nul_path), 400, "invalid_request")


@each_service
def test_a_text_plain_body_on_a_json_route_is_a_415(stack: Stack, name: str) -> None:
    body = json.dumps(stack.targets[name].valid_body).encode()
    assert "application/json" in refused(stack.post(name, body, "text/plain"), 415, "unsupported_media_type")


@each_service
def test_a_body_over_the_route_limit_is_a_413(stack: Stack, name: str) -> None:
    body = b'{"pad": "' + b"x" * stack.targets[name].body_limit + b'"}'
    message = refused(stack.post(name, body), 413, "payload_too_large")
    assert str(stack.targets[name].body_limit) in message


@each_service
def test_a_100_kb_url_is_a_414_with_the_error_body(stack: Stack, name: str) -> None:
    response = long_get(stack.targets[name].base, "/healthz?pad=" + "a" * 100_000)
    assert "URL" in refused(response, 414, "uri_too_long")


@each_service
def test_a_20_kb_url_is_a_414_from_the_app(stack: Stack, name: str) -> None:
    response = stack.get(name, "/healthz?pad=" + "a" * 20_000, **{"x-request-id": "req-long-url"})
    refused(response, 414, "uri_too_long", "req-long-url")


@pytest.mark.parametrize("head", [b"GET /healthz HTTP/1.1\r\nIdempotency-Key: a\x00b\r\n",
                                  b"GET /heal\x00thz HTTP/1.1\r\n"])
def test_a_nul_byte_in_the_request_head_gets_the_error_body_from_the_server(stack: Stack, head: bytes) -> None:
    address = urlsplit(stack.targets["projects"].base)
    with socket.create_connection((address.hostname or "", address.port or 80), timeout=10) as connection:
        connection.sendall(head + b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = b"".join(iter(lambda: connection.recv(65536), b""))
    status_line, _, rest = answer.partition(b"\r\n")
    head_lines, _, body = rest.partition(b"\r\n\r\n")
    assert status_line.startswith(b"HTTP/1.1 400") and b"content-type: application/json" in head_lines
    assert json.loads(body)["error"]["type"] == "invalid_request"


def test_nul_in_memory_content_or_a_metadata_key_is_a_400_not_a_500(stack: Stack) -> None:
    for body in ({"content": {"text": "a\u0000b"}, "kind": "fact"},
                 {"content": {"text": "a fact"}, "kind": "fact", "metadata": {"k\u0000": "v"}}):
        assert "NUL" in refused(stack.post("memory", json.dumps(body).encode()), 400, "invalid_request")


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(stack: Stack) -> None:
    body = {"content": {"text": "C strings end with \\u0000 (a literal backslash-u)"}, "kind": "fact"}
    response = stack.post("memory", json.dumps(body).encode())
    assert response.status_code == 201, response.text


def test_a_json_body_without_a_content_type_is_still_taken(stack: Stack) -> None:
    target = stack.targets["projects"]
    response = httpx.post(target.base + target.json_route, content=json.dumps(target.valid_body).encode(),
                          headers=bearer(stack.key))
    assert response.status_code == 201, response.text


def test_more_tools_than_openai_allows_is_a_400_that_names_the_field(stack: Stack) -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    body = {**stack.targets["llm-proxy"].valid_body, "tools": [tool] * 129}
    assert "tools" in refused(stack.post("llm-proxy", json.dumps(body).encode()), 400, "invalid_request")


@pytest.mark.parametrize("body", [
    b"[" * 10_000 + b"]" * 10_000,
    b'{"jsonrpc": "2.0", "id": 1, "method": "\xff"}',
    b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"a\\u0000": 1}}',
])
def test_the_mcp_endpoint_refuses_what_the_edge_refuses(stack: Stack, body: bytes) -> None:
    headers = {**bearer(stack.key), "content-type": "application/json",
               "accept": "application/json, text/event-stream"}
    response = httpx.post(stack.targets["toolcore"].base + "/mcp", content=body, headers=headers)
    refused(response, 400, "invalid_request")


def test_chat_completions_checks_the_key_before_the_body(stack: Stack) -> None:
    url = stack.targets["llm-proxy"].base + "/v1/chat/completions"
    for body in (b"[" * 10_000, b'{"model": 5}', b"\xff"):
        response = httpx.post(url, content=body, headers={"content-type": "application/json"})
        refused(response, 401, "unauthenticated", openai=True)
        response = httpx.post(url, content=body, headers={"content-type": "text/plain"})
        refused(response, 401, "unauthenticated", openai=True)


def test_a_ukrainian_document_near_the_2_mib_limit_fits_the_larger_body_limit_of_its_route(stack: Stack) -> None:
    target = stack.targets["memory"]
    text = ("Довга українська історія. " * 40_000)[:1_000_000]  # 1.8 MB of UTF-8; json.dumps makes it 5.2 MB
    body = json.dumps({"title": "Big", "text": text}).encode()
    response = httpx.post(target.base + "/internal/knowledge/documents", content=body, timeout=120,
                          headers={**bearer(stack.key), "content-type": "application/json"})
    assert len(body) > 4 * 1024 * 1024 and response.status_code == 201, response.text[:300]


def test_daarion_serve_answers_a_100_kb_url_with_the_error_body(database_url: str) -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "apps.cli", "serve", "projects", "--port", str(port)],
                               cwd=REPO, env={**os.environ, "DATABASE_URL": database_url},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz")
        refused(long_get(f"http://127.0.0.1:{port}", f"/healthz?pad={'a' * 100_000}"), 414, "uri_too_long")
    finally:
        process.terminate()
        process.wait(timeout=30)
