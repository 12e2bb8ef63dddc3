"""One YAML per service, parsed once into msgspec Structs; a bad file fails start-up naming the key."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import yaml

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[2]
REPO_CONFIG_DIR = REPO_ROOT / "config"


class ConfigError(Exception):
    """Raised at start-up; the message names the file and the offending key path."""


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    if raw is not None and not isinstance(raw, dict):
        raise ConfigError(f"config file {path}: expected a mapping at the top level")
    return raw or {}


def convert(raw: dict[str, Any], schema: type[T], source: str, set_by: dict[str, str] | None = None) -> T:
    """`set_by` maps a key path (`ledger.mode`) to the environment variable that set it, so an error names it."""
    try:
        return msgspec.convert(raw, schema, strict=False)
    except msgspec.ValidationError as exc:
        message = _name_dict_keys(str(exc), raw, schema)
        for key_path, variable in (set_by or {}).items():
            if f"`$.{key_path}`" in message:
                message += f" (set by {variable})"
        raise ConfigError(f"{source}: {message}") from None


def load_config(path: Path, schema: type[T]) -> T:
    return convert(read_yaml(path), schema, f"config file {path}")


_SEGMENT = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[(\.\.\.)\]")


def _name_dict_keys(message: str, raw: Any, schema: type[Any]) -> str:
    """msgspec writes `$.providers[...]` for mapping keys; find which key failed and write it instead."""
    while "[...]" in message:
        head, _, tail = message.partition("[...]")
        prefix = head[head.rindex("`$") + 2:] if "`$" in head else None
        if prefix is None:
            return message
        container = _follow(raw, prefix)
        culprit = _failing_key(raw, prefix, container, schema) if isinstance(container, dict) else None
        if culprit is None:
            return message
        message = f"{head}.{culprit}{tail}" if re.fullmatch(r"[A-Za-z_][\w-]*", culprit) else f"{head}[{culprit!r}]{tail}"
    return message


def _follow(raw: Any, path: str) -> Any:
    for name, index, _ in _SEGMENT.findall(path):
        raw = raw.get(name) if name and isinstance(raw, dict) else raw[int(index)] if index else raw
    return raw


def _failing_key(raw: Any, prefix: str, container: dict[str, Any], schema: type[Any]) -> str | None:
    for key in container:
        trial = copy.deepcopy(raw)
        holder = _follow(trial, prefix)
        for other in [k for k in holder if k != key]:
            del holder[other]
        try:
            msgspec.convert(trial, schema, strict=False)
        except msgspec.ValidationError:
            return str(key)
    return None
