"""Tool functions that misbehave the way the Python executor's isolation must survive."""

from __future__ import annotations

import os


def spin() -> None:
    """Burns CPU until something stops it (the worker's parent, or its CPU limit)."""
    while True:
        pass


def worker_pid() -> int:
    return os.getpid()


def hoard(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def vanish(status: int) -> None:
    os._exit(status)


def shout(text: str) -> str:
    print(text)  # must not reach the protocol pipe
    return text.upper()


def environment(name: str) -> str | None:
    return os.environ.get(name)
