"""No service listens beyond this machine with the secrets a fresh checkout ships."""

from __future__ import annotations

import ipaddress
from urllib.parse import unquote, urlsplit

# Passwords that appear in docs and images' examples; a database reachable with one is everyone's.
DEFAULT_PASSWORDS = frozenset({"", "daarion", "postgres", "password", "changeme", "secret"})


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def default_secret_problem(host: str, database_url: str | None) -> str | None:
    """Why binding `host` would expose default secrets, or None when it would not."""
    if is_loopback(host) or database_url is None:
        return None
    password = unquote(urlsplit(database_url).password or "")
    if password in DEFAULT_PASSWORDS:
        return (f"refusing to listen on {host}: DATABASE_URL uses a default password. Generate secrets with "
                "`daarion keys generate-env` (compose reads them from .env) or bind 127.0.0.1")
    return None
