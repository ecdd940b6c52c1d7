"""Parse and format human durations such as ``90s``, ``10m``, ``4h``, ``7d`` or ``1h30m``, and
read the ISO 8601 times given on the command line, each within a sane range."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d{1,9})([smhdw])")
MAX_DURATION = timedelta(days=365)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_EXAMPLES = "use e.g. 90s, 10m, 4h, 7d, 1h30m"


def parse_duration(text: str) -> timedelta:
    """Return the duration written in ``text``; ``0`` is zero. Raises ``ValueError`` otherwise,
    and for durations over ``MAX_DURATION`` (365 days)."""
    value = text.strip().lower()
    if value == "0":
        return timedelta(0)
    if not value or len(value) > 40:
        raise ValueError(f"not a duration: {text[:40]!r} ({_EXAMPLES})")
    pos = 0
    seconds = 0
    for match in _PART.finditer(value):
        if match.start() != pos:
            break
        seconds += int(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(value):
        raise ValueError(f"not a duration: {text[:40]!r} ({_EXAMPLES})")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{text[:40]!r} is longer than 365 days")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """Return the shortest ``1h30m``-style spelling of ``delta`` (``0`` for zero)."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "0"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)


def parse_moment(text: str) -> datetime:
    """An ISO 8601 time (``2026-11-29T09:00:00Z``; UTC when no zone is given) between 2000 and
    2099, as an aware datetime. Raises ``ValueError`` otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"not an ISO 8601 time: {text[:40]!r} (use e.g. 2026-11-29T09:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not EARLIEST <= moment < LATEST:
        raise ValueError(f"{text[:40]!r} is not between 2000 and 2099")
    return moment
