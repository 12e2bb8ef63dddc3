"""`time.now`: the current time in a named IANA time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def now(timezone: str = "UTC") -> dict[str, str | int]:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {timezone!r}; use an IANA name such as 'Europe/Kyiv'") from None
    moment = datetime.now(UTC).astimezone(zone)
    return {
        "iso": moment.isoformat(timespec="seconds"),
        "timezone": timezone,
        "weekday": moment.strftime("%A"),
        "unix": int(moment.timestamp()),
    }
