"""Parse and format human durations such as ``90s``, ``10m``, ``4h``, ``7d`` or ``1h30m``."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d{1,9})([smhdw])")


def parse_duration(text: str) -> timedelta:
    """Return the duration written in ``text``; ``0`` is zero. Raises ``ValueError`` otherwise."""
    value = text.strip().lower()
    if value == "0":
        return timedelta(0)
    if not value or len(value) > 40:
        raise ValueError(f"not a duration: {text[:40]!r} (use e.g. 90s, 10m, 4h, 7d, 1h30m)")
    pos = 0
    seconds = 0
    for match in _PART.finditer(value):
        if match.start() != pos:
            break
        seconds += int(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(value):
        raise ValueError(f"not a duration: {text[:40]!r} (use e.g. 90s, 10m, 4h, 7d, 1h30m)")
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
