"""Deliberately slow and failing tool functions for the Python executor's tests."""

from __future__ import annotations

import time


def nap(seconds: float) -> dict[str, float]:
    time.sleep(seconds)
    return {"slept": seconds}


def divide(a: float, b: float) -> float:
    return a / b
