"""Background housekeeping that must outlive a database blip: run now, then every interval, until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable


async def every(
    interval_s: float, stop: asyncio.Event, action: Callable[[], Awaitable[object]], what: str,
    log: logging.Logger, survives: Callable[[Exception], bool],
) -> None:
    """A failure `survives` accepts (e.g. `is_database_outage`) is logged as a warning and tried again at the
    next tick (a lasting outage is /readyz's to report); anything else ends the loop."""
    while not stop.is_set():
        try:
            await action()
        except Exception as exc:
            if not survives(exc):
                raise
            log.warning("%s failed (%s: %s); next try in %g s", what, type(exc).__name__, exc, interval_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
