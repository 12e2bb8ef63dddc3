"""The operator console's cookie-signing secret of a local install: made once, kept beside the local keys
file (mode 0600), never printed. Replicas of a deployed console share DAARION_CONSOLE_SECRET instead."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from infra.identity.local_keys import keys_file


def console_secret_file() -> Path:
    return keys_file().parent / "console_secret"


def local_console_secret(path: Path | None = None) -> bytes:
    """The secret in `path`, written first if there is none. Written whole to a temporary file and linked
    into place (which fails if the name exists): two processes starting at once read the same secret."""
    path = path or console_secret_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".console-secret-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(secrets.token_urlsafe(48).encode())
            os.chmod(temporary, 0o600)
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            Path(temporary).unlink(missing_ok=True)
    secret = path.read_bytes().strip()
    if len(secret) < 32:
        raise ValueError(f"{path} holds no console secret (under 32 bytes); delete it to make a new one")
    return secret
