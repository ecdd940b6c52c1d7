"""Mute windows: recurring quiet hours during which a route holds its notifications. Pure.

A window is ``{"days": "mon-fri", "from": "19:00", "to": "08:00", "tz": "Europe/Berlin"}``:
it starts on each listed day at ``from`` (local time in ``tz``) and ends at ``to``, on the next
day when ``to`` is not after ``from`` (so the window above runs Monday 19:00 to Tuesday 08:00,
..., Friday 19:00 to Saturday 08:00). ``days`` defaults to every day, ``tz`` to UTC; ``to`` may
be ``24:00``. Local times that do not exist or occur twice on a daylight-saving change are read
as ``zoneinfo`` reads them (the earlier offset), and every comparison is made in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = re.compile(r"([01]?\d|2[0-4]):([0-5]\d)")
_FIELDS = ("days", "from", "to", "tz")
_MAX_CHAIN = 64  # windows that follow one another are joined; this bounds the walk


class MuteWindowError(ValueError):
    """A mute window is malformed; ``field`` names the part (``days``, ``from``, ``to``, ``tz``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class MuteWindow:
    """Quiet hours: from ``start`` to ``end`` minutes after local midnight, on ``days``."""

    days: frozenset[int]  # the weekdays a window starts on, 0 = Monday
    start: int  # minutes after midnight, 0-1439
    end: int  # minutes after midnight, 1-1440; not after ``start``: ends on the next day
    tz: ZoneInfo

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def ends_at(self, now: datetime) -> datetime | None:
        """When the window holding ``now`` ends (UTC), or None when ``now`` is outside it."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        today = now.astimezone(self.tz).date()
        moment = now.astimezone(UTC)
        for day in (today - timedelta(days=1), today):
            if day.weekday() not in self.days:
                continue
            begins = _instant(day, self.start, self.tz)
            ends = _instant(
                day + timedelta(days=1) if self.crosses_midnight else day, self.end, self.tz
            )
            if begins <= moment < ends:
                return ends
        return None

    def describe(self) -> str:
        """``mon-fri 19:00-08:00 Europe/Berlin``."""
        return f"{_describe_days(self.days)} {_hhmm(self.start)}-{_hhmm(self.end)} {self.tz.key}"


def muted_until(windows: Iterable[MuteWindow], now: datetime) -> datetime | None:
    """When the quiet hours holding ``now`` end (UTC), joining windows that follow each other;
    None when no window holds ``now``."""
    windows = tuple(windows)
    moment = now.astimezone(UTC)
    for _ in range(_MAX_CHAIN):
        ends = [end for end in (w.ends_at(moment) for w in windows) if end is not None]
        if not ends:
            break
        moment = max(ends)
    return moment if moment != now.astimezone(UTC) else None


def always_muted(windows: Iterable[MuteWindow]) -> bool:
    """True when the windows leave no hour of a week free (such a route would never deliver).

    Checked on every hour of the first full week of 2026 and the week of Europe's spring
    daylight-saving change, in each window's own zone (coarse, but it catches ``00:00-24:00``
    on every day, alone or in pieces)."""
    windows = tuple(windows)
    if not windows:
        return False
    starts = (datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 3, 23, tzinfo=UTC))
    for start in starts:
        for hour in range(7 * 24):
            moment = start + timedelta(hours=hour, minutes=30)
            if all(w.ends_at(moment) is None for w in windows):
                return False
    return True


def parse_window(data: Any) -> MuteWindow:
    """A ``MuteWindow`` from its JSON object; ``MuteWindowError`` names the bad field."""
    if not isinstance(data, Mapping):
        raise MuteWindowError(
            "",
            'must be an object like {"days": "mon-fri", "from": "19:00", '
            '"to": "08:00", "tz": "Europe/Berlin"}',
        )
    for key in data:
        if key not in _FIELDS:
            raise MuteWindowError(str(key), f"unknown field (expected {', '.join(_FIELDS)})")
    for key in ("from", "to"):
        if key not in data:
            raise MuteWindowError(key, 'is required (a local time such as "19:00")')
    start = _minutes(data["from"], "from")
    end = _minutes(data["to"], "to")
    if start == 1440:
        raise MuteWindowError("from", "must be 00:00-23:59 (24:00 is only an end)")
    if start == end:
        raise MuteWindowError("to", "must differ from 'from' (a whole day is 00:00-24:00)")
    return MuteWindow(
        days=_days(data.get("days", "mon-sun")),
        start=start,
        end=end,
        tz=_zone(data.get("tz", "UTC")),
    )


def _minutes(value: Any, field: str) -> int:
    match = _TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise MuteWindowError(
            field, f'must be a local time HH:MM such as "19:00", got {_show(value)}'
        )
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours == 24 and minutes:
        raise MuteWindowError(field, f"is past 24:00: {_show(value)}")
    return hours * 60 + minutes


def _days(value: Any) -> frozenset[int]:
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
    elif isinstance(value, list) and all(isinstance(p, str) for p in value):
        parts = [p.strip() for p in value]
    else:
        raise MuteWindowError("days", 'must be text such as "mon-fri" or "sat,sun", or a list')
    days: set[int] = set()
    for part in parts:
        if not part:
            raise MuteWindowError("days", f"has an empty entry: {_show(value)}")
        if part == "*":
            days.update(range(7))
            continue
        first, dash, last = part.partition("-")
        low = _day(first, value)
        high = _day(last, value) if dash else low
        day = low
        days.add(day)
        while day != high:  # a range may wrap around the week: "fri-mon"
            day = (day + 1) % 7
            days.add(day)
    return frozenset(days)


def _day(name: str, whole: Any) -> int:
    key = name.strip().lower()
    if key in DAY_NAMES:
        return DAY_NAMES.index(key)
    if key in _FULL_NAMES:
        return _FULL_NAMES.index(key)
    raise MuteWindowError(
        "days",
        f"unknown day {_show(name)} in {_show(whole)} (use mon, tue, wed, thu, fri, sat, sun)",
    )


def _zone(value: Any) -> ZoneInfo:
    if not isinstance(value, str) or not value.strip():
        raise MuteWindowError("tz", 'must be an IANA time zone such as "Europe/Berlin"')
    try:
        return ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise MuteWindowError(
            "tz", f"unknown time zone {_show(value)} (use an IANA name such as Europe/Berlin)"
        ) from None


def _instant(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of ``minutes`` after local midnight of ``day`` in ``tz``."""
    extra, minutes = divmod(minutes, 1440)
    day = day + timedelta(days=extra)
    local = datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=tz)
    return local.astimezone(UTC)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _describe_days(days: frozenset[int]) -> str:
    if len(days) == 7:
        return "daily"
    return ",".join(DAY_NAMES[d] for d in sorted(days))


def _show(value: Any) -> str:
    return repr(value if not isinstance(value, str) else value[:40])
