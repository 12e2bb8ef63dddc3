"""The Python tools' safe arithmetic and the HTTP request builder's escaping: pure functions, no I/O."""

from __future__ import annotations

import pytest

from domain.tools.model import ToolCall, ToolFailure
from infra.tools.executors.http_request import HttpTarget, OutgoingRequest, build_request
from infra.tools.python_functions.arithmetic import evaluate
from infra.tools.yaml_config import SecretHeader


def test_arithmetic_follows_precedence_and_knows_a_few_functions() -> None:
    assert evaluate("2 * (3 + 4) ** 2 - sqrt(16)")["value"] == 94.0
    assert evaluate("max(1, 7, 3) // 2")["value"] == 3


@pytest.mark.parametrize("expression", [
    "__import__('os').system('id')", "(1).__class__", "[x for x in range(9)]", "open('/etc/passwd')",
    "lambda: 1", "a", "'text'",
])
def test_anything_but_arithmetic_is_refused_before_evaluation(expression: str) -> None:
    with pytest.raises((ValueError, TypeError)):
        evaluate(expression)


@pytest.mark.parametrize("expression", ["9**9**9", "10**299 * 10**5", "1e300 * 1e300"])
def test_runaway_numbers_fail_fast(expression: str) -> None:
    with pytest.raises((ValueError, OverflowError)):
        evaluate(expression)


TARGET = HttpTarget("GET", "http://127.0.0.1:1/m/{ctx.microdao_id}/items/{name}", ("http", "127.0.0.1", 1),
                    {"q": "q", "tags": "tags"}, None, {}, [SecretHeader("X-Key", "TEST_TOOL_KEY")], True)


def request_for(args: dict[str, object], env: dict[str, str] | None = None) -> OutgoingRequest:
    call = ToolCall("req_1", "items.get", "agent:sofia", args, "microdao:7", "k-1")
    return build_request(TARGET, call, env if env is not None else {"TEST_TOOL_KEY": "s3cret"})


def test_arguments_fill_one_escaped_path_segment_each() -> None:
    for name, segment in (("../../admin", "..%2F..%2Fadmin"), ("..", "%2E%2E"), ("a b/é", "a%20b%2F%C3%A9")):
        request = request_for({"name": name})
        assert request.url == f"http://127.0.0.1:1/m/microdao%3A7/items/{segment}"


def test_query_lists_repeat_and_absent_arguments_are_left_out() -> None:
    request = request_for({"name": "x", "tags": ["a", "b"]})
    assert request.params == [("tags", "a"), ("tags", "b")]


def test_secret_headers_come_from_the_environment_and_keys_are_scoped_by_agent() -> None:
    request = request_for({"name": "x"})
    assert request.headers == {"X-Key": "s3cret", "Idempotency-Key": "agent:sofia/k-1"}
    assert request.secrets == (b"s3cret",)


def test_a_missing_required_secret_is_a_not_configured_failure() -> None:
    with pytest.raises(ToolFailure) as raised:
        request_for({"name": "x"}, env={})
    assert raised.value.type == "not_configured"
