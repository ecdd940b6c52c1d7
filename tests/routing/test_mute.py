"""Mute windows: a window crossing midnight in a non-UTC zone holds, then releases; DST; chains."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pullwatch.routing.mute import (
    MuteWindow,
    MuteWindowError,
    always_muted,
    muted_until,
    parse_window,
)

BERLIN_NIGHTS = parse_window(
    {"days": "mon-fri", "from": "19:00", "to": "08:00", "tz": "Europe/Berlin"}
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "until"),
    [
        # 2026-01-13 is a Tuesday; Berlin is UTC+1 in winter.
        ("2026-01-13T17:59:00", None),  # 18:59 local: not yet
        ("2026-01-13T18:00:00", "2026-01-14T07:00:00"),  # 19:00 local: held until 08:00 local
        ("2026-01-13T23:30:00", "2026-01-14T07:00:00"),  # past local midnight: still held
        ("2026-01-14T06:59:59", "2026-01-14T07:00:00"),
        ("2026-01-14T07:00:00", None),  # 08:00 local: released (the end is not in the window)
        ("2026-01-16T20:00:00", "2026-01-17T07:00:00"),  # Friday night runs into Saturday
        ("2026-01-17T20:00:00", None),  # Saturday night: no window starts on Saturday
        ("2026-01-18T23:30:00", None),  # Sunday 00:30 local Monday: Sunday starts none either
        # Summer (UTC+2): the same local hours are an hour earlier in UTC.
        ("2026-07-07T17:00:00", "2026-07-08T06:00:00"),
        ("2026-07-08T06:00:00", None),
    ],
)
def test_berlin_weeknights(now: str, until: str | None) -> None:
    expected = utc(until) if until else None
    assert muted_until([BERLIN_NIGHTS], utc(now)) == expected
    assert BERLIN_NIGHTS.ends_at(utc(now)) == expected


def test_a_night_across_the_spring_change_is_an_hour_shorter() -> None:
    """29 March 2026: Berlin skips 02:00-03:00; 19:00 CET to 08:00 CEST is 12 hours."""
    start = utc("2026-03-27T18:00:00")  # Friday 19:00 CET
    every_night = parse_window({"from": "19:00", "to": "08:00", "tz": "Europe/Berlin"})
    assert muted_until([every_night], utc("2026-03-28T18:30:00")) == utc("2026-03-29T06:00:00")
    assert muted_until([every_night], start) == utc("2026-03-28T07:00:00")


def test_windows_that_follow_each_other_are_joined() -> None:
    weekend = parse_window(
        {"days": "sat,sun", "from": "00:00", "to": "24:00", "tz": "Europe/Berlin"}
    )
    friday_night = utc("2026-01-16T20:00:00")
    # Friday 21:00 → Saturday 08:00, then all of Saturday and Sunday, until Monday 00:00 local.
    assert muted_until([BERLIN_NIGHTS, weekend], friday_night) == utc("2026-01-18T23:00:00")
    assert muted_until([BERLIN_NIGHTS, weekend], utc("2026-01-18T23:00:00")) is None


def test_a_day_range_may_wrap_and_names_may_be_long() -> None:
    window = parse_window({"days": ["Friday-mon"], "from": "12:00", "to": "13:00"})
    assert window.days == frozenset({4, 5, 6, 0})
    assert window.describe() == "mon,fri,sat,sun 12:00-13:00 UTC"
    assert muted_until([window], utc("2026-01-19T12:30:00")) == utc("2026-01-19T13:00:00")  # Mon
    assert muted_until([window], utc("2026-01-20T12:30:00")) is None  # Tuesday


def test_to_midnight_ends_at_the_start_of_the_next_day() -> None:
    window = parse_window({"from": "22:00", "to": "00:00", "tz": "America/New_York"})
    assert muted_until([window], utc("2026-01-14T03:30:00")) == utc("2026-01-14T05:00:00")


def test_always_muted_is_detected_and_a_gap_is_not() -> None:
    whole = parse_window({"from": "00:00", "to": "24:00"})
    assert always_muted([whole])
    halves = [
        parse_window({"from": "00:00", "to": "12:00", "tz": "Asia/Tokyo"}),
        parse_window({"from": "12:00", "to": "00:00", "tz": "Asia/Tokyo"}),
    ]
    assert always_muted(halves)
    assert not always_muted([BERLIN_NIGHTS])
    assert not always_muted([])


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        BERLIN_NIGHTS.ends_at(datetime(2026, 1, 13, 20, 0))


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"from": "19:00", "to": "08:00", "tz": "Europe/Berln"}, "tz", "unknown time zone"),
        ({"from": "19:00", "to": "08:00", "tz": "europe"}, "tz", "unknown time zone"),
        ({"from": "19:00", "to": "08:00", "tz": 1}, "tz", "IANA"),
        ({"from": "7pm", "to": "08:00"}, "from", "HH:MM"),
        ({"from": "19:00", "to": "24:30"}, "to", "past 24:00"),
        ({"from": "24:00", "to": "08:00"}, "from", "only an end"),
        ({"from": "08:00", "to": "08:00"}, "to", "must differ"),
        ({"to": "08:00"}, "from", "required"),
        ({"from": "19:00", "to": "08:00", "days": "mon-fry"}, "days", "unknown day"),
        ({"from": "19:00", "to": "08:00", "days": "mon,,fri"}, "days", "empty entry"),
        ({"from": "19:00", "to": "08:00", "days": 5}, "days", "mon-fri"),
        ({"from": "19:00", "to": "08:00", "zone": "UTC"}, "zone", "unknown field"),
        ("19:00-08:00", "", "must be an object"),
    ],
    ids=lambda v: str(v)[:30] if not isinstance(v, dict) else None,
)
def test_bad_windows_name_the_field(data: Any, field: str, words: str) -> None:
    with pytest.raises(MuteWindowError) as caught:
        parse_window(data)
    assert caught.value.field == field
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_window_is_frozen_data() -> None:
    assert isinstance(BERLIN_NIGHTS, MuteWindow)
    assert (BERLIN_NIGHTS.start, BERLIN_NIGHTS.end, BERLIN_NIGHTS.crosses_midnight) == (
        1140,
        480,
        True,
    )


def test_zones_work_without_the_systems_zone_files() -> None:
    """With no system zone directory (PYTHONTZPATH empty), the tzdata package supplies zones."""
    code = (
        "import zoneinfo, datetime as d\n"
        "assert zoneinfo.TZPATH == (), zoneinfo.TZPATH\n"
        "from pullwatch.routing.mute import parse_window, muted_until\n"
        "w = parse_window({'from': '19:00', 'to': '08:00', 'tz': 'Europe/Berlin'})\n"
        "print(muted_until([w], d.datetime(2026, 1, 13, 20, tzinfo=d.UTC)).isoformat())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONTZPATH": ""},
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2026-01-14T07:00:00+00:00"
