"""The secrets file of a compose deployment: a database password and an operator key, mode 0600, never
overwritten. Standard library only, so `python3 scripts/generate_env.py` works before anything is installed."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from domain.identity.keys import new_key


def write_env_file(path: Path) -> None:
    """Raises FileExistsError rather than replacing secrets a running deployment may already use."""
    _, admin_key = new_key()
    lines = [
        "# DAARION deployment secrets (made by `daarion keys generate-env`). Keep this file private.",
        f"POSTGRES_PASSWORD={secrets.token_urlsafe(24)}",
        f"DAARION_BOOTSTRAP_ADMIN_KEY={admin_key}",
        f"DAARION_CONSOLE_SECRET={secrets.token_urlsafe(48)}",
    ]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("\n".join(lines) + "\n")
