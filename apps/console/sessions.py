"""Operator sessions: a cookie naming the key's id (never the key), an expiry and the session's CSRF token,
signed with HMAC-SHA256. Every request looks the key up again, so revoking it ends its sessions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import msgspec
from litestar.datastructures import Cookie

SESSION_COOKIE = "daarion_console"
LOGIN_COOKIE = "daarion_console_login"  # the sign-in form's CSRF token, before there is a session


class _Claims(msgspec.Struct, array_like=True):
    key_id: str
    csrf: str
    expires: int


@dataclass(frozen=True, slots=True)
class Session:
    key_id: str
    csrf: str
    expires: int


class SessionSigner:
    def __init__(self, secret: bytes, ttl_s: int, secure: bool) -> None:
        self._secret = hashlib.sha256(b"daarion-console-session:" + secret).digest()
        self._ttl_s = ttl_s
        self._secure = secure

    def start(self, key_id: str) -> tuple[Session, Cookie]:
        session = Session(key_id, secrets.token_urlsafe(24), int(time.time()) + self._ttl_s)
        payload = _b64(msgspec.json.encode(_Claims(session.key_id, session.csrf, session.expires)))
        return session, self._cookie(SESSION_COOKIE, f"{payload}.{self._sign(payload)}", self._ttl_s)

    def read(self, cookie: str | None) -> Session | None:
        """The session the cookie carries; None if it is missing, altered, malformed or expired."""
        if not cookie or cookie.count(".") != 1:
            return None
        payload, signature = cookie.split(".")
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            claims = msgspec.json.decode(_unb64(payload), type=_Claims)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
            return None
        if claims.expires <= time.time():
            return None
        return Session(claims.key_id, claims.csrf, claims.expires)

    def login_token(self) -> tuple[str, Cookie]:
        token = secrets.token_urlsafe(24)
        return token, self._cookie(LOGIN_COOKIE, token, 600)

    def end(self) -> list[Cookie]:
        return [self._cookie(name, "", 0) for name in (SESSION_COOKIE, LOGIN_COOKIE)]

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode(), hashlib.sha256).digest())

    def _cookie(self, name: str, value: str, max_age: int) -> Cookie:
        return Cookie(key=name, value=value, max_age=max_age, path="/", httponly=True, samesite="strict",
                      secure=self._secure)


def same_token(expected: str | None, presented: str | None) -> bool:
    return bool(expected) and bool(presented) and hmac.compare_digest(str(expected), str(presented))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
