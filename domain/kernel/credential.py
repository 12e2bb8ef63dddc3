"""A caller's bearer key, carried through a use case only to be presented again downstream."""

from __future__ import annotations


class Credential:
    """Opaque to the domain. It never prints (repr and str hide all of it) and msgspec refuses to encode
    it, so it cannot reach a log line, a ledger event or a response body by accident; only an adapter that
    presents it (an HTTP client, as a header) calls `reveal()`."""

    __slots__ = ("_secret",)

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def reveal(self) -> str:
        return self._secret

    def __repr__(self) -> str:
        return "Credential(<hidden>)"

    __str__ = __repr__
