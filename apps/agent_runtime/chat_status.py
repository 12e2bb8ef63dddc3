"""The "thinking… 3.4 s" line a terminal chat shows while a turn runs (a local model can take seconds).

Only on a terminal: piped output stays exactly the transcript. The line is redrawn in place from a
background thread and wiped before anything else is printed, so it never mixes into the transcript.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Self, TextIO

FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class Thinking:
    def __init__(self, out: TextIO, interval_s: float = 0.1) -> None:
        self._out = out
        self._interval = interval_s
        self._enabled = out.isatty()
        self._lock = threading.Lock()
        self._shown = False
        self._done = threading.Event()
        self._started = 0.0
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        self._started = time.monotonic()
        self._done.clear()
        if self._enabled:
            self._thread = threading.Thread(target=self._run, name="chat-thinking", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        """Wipes the line for good (the reply is about to be written)."""
        self._done.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.wipe()

    def wipe(self) -> None:
        """Wipes the line; it comes back at the next tick unless stopped."""
        with self._lock:
            if self._shown:
                self._out.write("\r\033[K")
                self._out.flush()
                self._shown = False

    def _run(self) -> None:
        tick = 0
        while not self._done.wait(self._interval):
            with self._lock:
                elapsed = time.monotonic() - self._started
                self._out.write(f"\r\033[K{FRAMES[tick % len(FRAMES)]} thinking… {elapsed:.1f} s")
                self._out.flush()
                self._shown = True
            tick += 1
