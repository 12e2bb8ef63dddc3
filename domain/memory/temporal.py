"""Dates named in a query ("on 5 Jan 2024", "January 6 2024", "21.01.2024", "in May 2024", "the first week
of 2024", "5 січня 2024") as the time window its answer was most likely said in.

A named day stands for the day before it to two days after it: people tell of a day on it or shortly
after ("yesterday I..."), and an exchange's `occurred_at` is its first message's. A month or a week
stands for itself. A date without a year is its latest occurrence not after `now`. Queries naming no
date, or several, get no window: the ranking then stays as it was.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
    "nov": 11, "dec": 12, "січ": 1, "лют": 2, "бер": 3, "кві": 4, "тра": 5, "чер": 6, "лип": 7, "сер": 8,
    "вер": 9, "жов": 10, "лис": 11, "гру": 12,
}
# Whole month names and their usual abbreviations only: "2 novels" or "5 трамваїв" name no date.
_MONTH = (r"(?P<month>(?:january|jan|february|feb|march|mar|april|apr|may|june|jun|july|jul|august|aug|september"
          r"|sept|sep|october|oct|november|nov|december|dec|січ(?:ня|ень)|лют(?:ого|ий)|берез(?:ня|ень)|квіт(?:ня|ень)"
          r"|трав(?:ня|ень)|черв(?:ня|ень)|лип(?:ня|ень)|серп(?:ня|ень)|верес(?:ня|ень)|жовт(?:ня|ень)|листопад(?:а)?"
          r"|груд(?:ня|ень))\b)")
_YEAR = r"(?:,?\s+(?P<year>\d{4}))?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_PATTERNS = (
    ("day", re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}\.?{_YEAR}", re.IGNORECASE)),
    # Month first only with a year: "I may 5 things" names no date.
    ("day", re.compile(rf"\b{_MONTH}\.?\s+{_DAY},?\s+(?P<year>\d{{4}})", re.IGNORECASE)),
    ("iso", re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b")),
    # Day first, as Ukrainians and most of Europe write it: "21.01.2024".
    ("numeric", re.compile(r"\b(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})\b")),
    ("week", re.compile(r"\b(?P<nth>first|second|third|last)\s+week\s+of\s+(?:" + _MONTH + r"\s+)?(?P<year>\d{4})",
                        re.IGNORECASE)),
    ("month", re.compile(rf"\b(?:in|of|during)\s+{_MONTH}\s+(?P<year>\d{{4}})", re.IGNORECASE)),
)
_NTH = {"first": 0, "second": 1, "third": 2}


def mentioned_window(query: str, now: datetime) -> tuple[datetime, datetime] | None:
    windows: list[tuple[datetime, datetime]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(query):
            if any(start < match.end() and match.start() < end for start, end in taken):
                continue
            window = _window(kind, match, now)
            if window is not None:
                windows.append(window)
                taken.append(match.span())
    return windows[0] if len(windows) == 1 else None


def _window(kind: str, match: re.Match[str], now: datetime) -> tuple[datetime, datetime] | None:
    groups = match.groupdict()
    numeric = kind in ("iso", "numeric")
    month = int(groups["month"]) if numeric else _MONTHS.get((groups.get("month") or "jan")[:3].lower())
    year = int(groups["year"]) if groups.get("year") else None
    if month is None:
        return None
    try:
        if kind == "day" or numeric:
            day = datetime(year or now.year, month, int(groups["day"]), tzinfo=UTC)
            if year is None and day > now:
                day = day.replace(year=now.year - 1)
            return day - timedelta(days=1), day + timedelta(days=2)
        if year is None:
            return None
        if kind == "month":
            start = datetime(year, month, 1, tzinfo=UTC)
            return start, datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        start = datetime(year, month, 1, tzinfo=UTC)
        if groups["nth"].lower() == "last":
            end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC) if groups.get("month") \
                else datetime(year + 1, 1, 1, tzinfo=UTC)
            return end - timedelta(days=7), end
        start += timedelta(days=7 * _NTH[groups["nth"].lower()])
        return start, start + timedelta(days=7)
    except ValueError:  # "31 February"
        return None
