"""What every contract suite shares: names no other test uses, and a database of one's own."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit, urlunsplit

BOTH = ["fake", "postgres"]  # the parameter of every suite: the in-memory twin, then the real adapter


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def drop_database(url: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    parts = urlsplit(url)
    with psycopg.connect(urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment)),
                         autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
