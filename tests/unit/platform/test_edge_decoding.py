"""The edge's body rules in isolation (apps/common/edge.py): exact depth and NUL checks without false alarms."""

from __future__ import annotations

import json

import pytest

from apps.common.edge import MAX_DEPTH, decode_body, is_json_media_type
from domain.kernel.errors import InvalidRequest


def nested(depth: int) -> bytes:
    return b'{"a": ' * (depth - 1) + b"[]" + b"}" * (depth - 1)


def test_a_body_nested_exactly_to_the_limit_decodes() -> None:
    assert decode_body(nested(MAX_DEPTH)) is not None


def test_one_level_past_the_limit_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="deeper than 64"):
        decode_body(nested(MAX_DEPTH + 1))


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    assert decode_body(json.dumps({"text": "[" * 500 + "{" * 500}).encode())["text"].startswith("[[")


def test_many_shallow_containers_are_not_deep() -> None:
    assert len(decode_body(json.dumps([{"a": [1]} for _ in range(1000)]).encode())) == 1000


@pytest.mark.parametrize("raw", [b'{"a": "x\\u0000"}', b'{"a\\u0000": 1}', b'["\\\\\\u0000"]'])
def test_an_escaped_nul_anywhere_is_refused(raw: bytes) -> None:
    with pytest.raises(InvalidRequest, match="NUL"):
        decode_body(raw)


@pytest.mark.parametrize(("raw", "text"), [
    (b'["\\\\u0000"]', "\\u0000"), (b'["\\\\\\\\u0000"]', "\\\\u0000"), (b'["u0000"]', "u0000"),
])
def test_text_that_only_looks_like_a_nul_escape_is_kept(raw: bytes, text: str) -> None:
    assert decode_body(raw) == [text] and "\x00" not in text


@pytest.mark.parametrize(("raw", "needle"), [
    (b'{"a": "\xff"}', "UTF-8"), (b"[1,", "not valid JSON"), (b'{"a": "\\ud800"}', "not valid JSON"),
    (b"[" * 100_000, "deeper than 64"),
])
def test_undecodable_bodies_are_invalid_requests(raw: bytes, needle: str) -> None:
    with pytest.raises(InvalidRequest, match=needle):
        decode_body(raw)


@pytest.mark.parametrize(("media_type", "json_"), [
    ("application/json", True), ("Application/JSON; charset=UTF-8", True), ("application/merge-patch+json", True),
    ("application/json; charset=latin-1", False), ("text/plain", False), ("application/x-www-form-urlencoded", False),
    ("multipart/form-data; boundary=x", False), ("", False),
])
def test_only_json_media_types_in_utf8_are_json(media_type: str, json_: bool) -> None:
    assert is_json_media_type(media_type) is json_
