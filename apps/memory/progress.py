"""A one-line progress bar for `daarion memory reindex` (no dependency; plain lines when not a terminal)."""

from __future__ import annotations

import time
from typing import TextIO


class ProgressBar:
    def __init__(self, total: int, stream: TextIO, label: str = "", width: int = 30) -> None:
        self._total = max(total, 0)
        self._stream = stream
        self._label = label
        self._width = width
        self._started = time.monotonic()
        self._tty = stream.isatty()
        self._last_line_at = -1.0
        self._done = 0

    def update(self, done: int) -> None:
        """Never moves backwards: callers may report from two counts that lag each other."""
        done = self._done = min(max(done, self._done), self._total)
        elapsed = max(time.monotonic() - self._started, 1e-9)
        rate = done / elapsed
        fraction = done / self._total if self._total else 1.0
        eta = (self._total - done) / rate if rate > 0 else float("inf")
        filled = int(self._width * fraction)
        bar = "#" * filled + "-" * (self._width - filled)
        eta_text = f"{eta:5.0f}s" if eta != float("inf") else "    ?s"
        line = (f"{self._label}[{bar}] {done}/{self._total} {fraction:6.1%} "
                f"{rate:7.1f}/s eta {eta_text}")
        if self._tty:
            self._stream.write("\r" + line)
        elif elapsed - self._last_line_at >= 5 or done == self._total:  # a log file gets a line every 5 s
            self._last_line_at = elapsed
            self._stream.write(line + "\n")
        self._stream.flush()

    def close(self) -> None:
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()
