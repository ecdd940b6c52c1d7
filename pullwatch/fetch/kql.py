"""KQL literals and the query window, shared by every query pullwatch builds. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["kql_datetime", "kql_string", "query_start", "read_datetime"]


def query_start(*, watermark: datetime | None, now: datetime, lookback: timedelta) -> datetime:
    """The window's lower bound (exclusive), on ``TimeGenerated`` and, with a watermark, on the
    ingestion time: ``watermark - lookback`` (the overlap re-read each tick) or
    ``now - lookback``."""
    return (watermark if watermark is not None else now) - lookback


def kql_string(text: str) -> str:
    """A KQL string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def kql_datetime(moment: datetime) -> str:
    """A KQL ``datetime()`` literal in UTC."""
    if moment.tzinfo is None:
        raise ValueError("datetimes passed to the query must be timezone-aware")
    utc = moment.astimezone(UTC)
    return f"datetime({utc.strftime('%Y-%m-%dT%H:%M:%S.%f')}Z)"


def read_datetime(value: Any) -> datetime | None:
    """A time from a query's answer (Kusto writes ``...T08:10:02.4310000Z``: 7 fractional
    digits, which ``fromisoformat`` cuts to 6), in UTC; a time without a zone is UTC; ``None``
    or ``""`` is None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
