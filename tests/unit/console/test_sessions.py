"""The console's session cookie: signed, expiring, naming the key's id and never the key."""

from __future__ import annotations

import time

import pytest

from apps.console.sessions import SESSION_COOKIE, SessionSigner, same_token


def test_a_session_cookie_reads_back_and_is_http_only_strict_and_holds_only_the_key_id() -> None:
    signer = SessionSigner(b"k" * 40, ttl_s=3600, secure=True)
    session, cookie = signer.start("0123456789abcdef")
    assert cookie.key == SESSION_COOKIE and cookie.httponly and cookie.samesite == "strict" and cookie.secure
    read = signer.read(cookie.value)
    assert read == session and read.key_id == "0123456789abcdef" and len(read.csrf) >= 24


@pytest.mark.parametrize("tamper", [
    lambda v: v[:-2] + ("AA" if not v.endswith("AA") else "BB"),       # another signature
    lambda v: "eyJ" + v[3:],                                           # another payload
    lambda v: v.replace(".", ""),                                      # no signature at all
    lambda v: "",
])
def test_an_altered_or_missing_cookie_is_no_session(tamper: object) -> None:
    signer = SessionSigner(b"k" * 40, ttl_s=3600, secure=False)
    _, cookie = signer.start("0123456789abcdef")
    assert signer.read(tamper(cookie.value)) is None  # type: ignore[operator]


def test_a_cookie_signed_with_another_secret_or_expired_is_no_session() -> None:
    _, cookie = SessionSigner(b"a" * 40, ttl_s=3600, secure=False).start("0123456789abcdef")
    assert SessionSigner(b"b" * 40, ttl_s=3600, secure=False).read(cookie.value) is None
    expired = SessionSigner(b"a" * 40, ttl_s=-1, secure=False)
    _, old = expired.start("0123456789abcdef")
    assert expired.read(old.value) is None and time.time() > 0


def test_csrf_tokens_match_only_when_both_are_present_and_equal() -> None:
    assert same_token("abc", "abc")
    assert not same_token("abc", "abd") and not same_token(None, None) and not same_token("", "")
