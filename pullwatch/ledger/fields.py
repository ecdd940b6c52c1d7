"""How the ledger document writes times and optional values (UTC ISO-8601 text). Pure."""

from __future__ import annotations

import fnmatch
from datetime import UTC, datetime
from typing import Any


def glob_match(value: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


def utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("ledger times must be timezone-aware")
    return value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    return utc(value).isoformat() if value is not None else None


def parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO time, got {type(value).__name__}")
    return utc(datetime.fromisoformat(value))


def opt_time(value: Any) -> datetime | None:
    return None if value is None else parse_time(value)


def opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
