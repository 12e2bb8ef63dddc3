"""The keys file of a local install: the admin key and one key per configured agent, readable only by
their owner (mode 0600), so `daarion chat` and a local runtime find the key they need by themselves.

It lives beside the embedded database ($XDG_DATA_HOME/daarion/keys.json, or DAARION_KEYS_FILE). Holding
it is holding those credentials: it is never written anywhere else and its keys are printed only once.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import msgspec

from infra.platform.settings import env


class LocalKeys(msgspec.Struct):
    admin: str | None = None
    agents: dict[str, str] = {}
    memory_delegate: str | None = None  # llm:on_behalf, when the memory service embeds through the proxy so


def keys_file() -> Path:
    configured = env("DAARION_KEYS_FILE")
    if configured:
        return Path(configured)
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "daarion" / "keys.json"


def read_local_keys(path: Path | None = None) -> LocalKeys:
    path = path or keys_file()
    try:
        return msgspec.json.decode(path.read_bytes(), type=LocalKeys)
    except FileNotFoundError:
        return LocalKeys()
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValueError(f"{path} is not a DAARION keys file: {exc}") from None


def write_local_keys(keys: LocalKeys, path: Path | None = None) -> Path:
    """Written whole or not at all: a temporary file created 0600 in the same folder, then renamed."""
    path = path or keys_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".keys-", suffix=".json")
    try:
        with os.fdopen(descriptor, "w") as handle:
            json.dump(msgspec.to_builtins(keys), handle, indent=2)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def agent_key(agent_id: str) -> str | None:
    """The key to act as `agent_id`: DAARION_API_KEY when set, else the local keys file's."""
    return env("DAARION_API_KEY") or read_local_keys().agents.get(agent_id)
