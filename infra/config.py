"""One YAML per service, parsed once into msgspec Structs; a bad file fails start-up naming the key."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

import msgspec
import yaml

T = TypeVar("T")

REPO_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


class ConfigError(Exception):
    """Raised at start-up; the message names the file and the offending key path."""


def config_path(file_name: str, env_var: str) -> Path:
    """The path in `env_var` if set, else ./config/<file_name>, else the repository's shipped default."""
    explicit = os.environ.get(env_var)
    if explicit:
        return Path(explicit)
    local = Path("config") / file_name
    return local if local.exists() else REPO_CONFIG_DIR / file_name


def load_config(path: Path, schema: type[T]) -> T:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    try:
        return msgspec.convert(raw if raw is not None else {}, schema, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
