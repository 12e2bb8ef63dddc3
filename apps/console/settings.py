"""The console's settings: defaults with the environment laid over them (infra.platform.settings)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from infra.platform.settings import load_settings


class ConsoleSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pool_size: int = 5
    session_secret: Annotated[str, msgspec.Meta(min_length=32)] | None = None  # DAARION_CONSOLE_SECRET
    session_hours: Annotated[int, msgspec.Meta(ge=1, le=24 * 30)] = 12
    secure_cookies: bool = False  # true behind TLS: the browser then sends the cookie over HTTPS only


def load_console_settings() -> ConsoleSettings:
    return load_settings(ConsoleSettings, "console", None)
