"""The escaping and fitting helpers, case by case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from notifiers.text import (
    clean,
    format_time,
    safe_url,
    slack_code,
    slack_escape,
    slack_text,
    teams_text,
    truncate,
)


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<!channel> hi", "&lt;!channel&gt; hi"),
        ("<!here|here>", "&lt;!here|here&gt;"),
        ("<@U024BE7LH>", "&lt;@U024BE7LH&gt;"),
        ("<https://evil.example|ok>", "&lt;https://evil.example|ok&gt;"),
        ("a & b", "a &amp; b"),
        ("&amp;", "&amp;amp;"),
        ("ping @channel and @Here", "ping @\u2060channel and @\u2060Here"),
        ("mail me@channel.example", "mail me@channel.example"),
    ],
)
def test_slack_escape(raw: str, escaped: str) -> None:
    assert slack_escape(raw) == escaped


@pytest.mark.parametrize(
    ("raw", "limit", "out"),
    [
        ("a&b", 3, "a…"),  # "&amp;" does not fit in 2: it is dropped, not cut
        ("ab&", 7, "ab&amp;"),
        ("ab&c", 7, "ab…"),
        ("🔥🔥", 3, "🔥…"),  # an emoji counts 2 in UTF-16
        ("line\nbreak\x00\x1b[0m", 100, "line break[0m"),
    ],
)
def test_slack_text_fits(raw: str, limit: int, out: str) -> None:
    assert slack_text(raw, limit) == out


def test_slack_code_cannot_close_the_block() -> None:
    assert "`" not in slack_code("x ``` <!here> `y`", 100)
    assert "&lt;!here&gt;" in slack_code("x ``` <!here> `y`", 100)


@pytest.mark.parametrize(
    ("raw", "out"),
    [
        ("[click](https://evil.example)", "\\[click\\](https://evil.example)"),
        ("**bold** _it_", "\\*\\*bold\\*\\* \\_it\\_"),
        ("<at>User</at>", "\\<at\\>User\\</at\\>"),
        ("# title", "\\# title"),
        ("1. step", "1\\. step"),
        ("20.61.4.17", "20.61.4.17"),
        ("myacr.azurecr.io/api:1.4.2", "myacr.azurecr.io/api:1.4.2"),
        ("a\\b", "a\\\\b"),
    ],
)
def test_teams_text_escapes_markdown(raw: str, out: str) -> None:
    assert teams_text(raw, 200) == out


def test_teams_text_does_not_cut_an_escape() -> None:
    assert teams_text("ab*", 3) == "ab…"
    assert teams_text("a*bc", 4) == "a\\*…"


def test_clean_removes_invisible_and_bidi_characters() -> None:
    assert clean("a\u202eb\u200bc\ufeff\x07d\r\ne\tf") == "abcd\ne f"


def test_truncate() -> None:
    assert truncate("abcdef", 4) == "abc…"
    assert truncate("abc", 3) == "abc"
    assert truncate("abc", 0) == ""


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "ftp://x/y", "https://a b", "https://x/<y>", "https://x/|", "/rel"],
)
def test_safe_url_refuses(url: str) -> None:
    assert safe_url(url) is None


def test_safe_url_accepts_portal_links() -> None:
    url = "https://portal.azure.com/#@/resource/subscriptions/x/overview"
    assert safe_url(url) == url


def test_format_time_is_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert format_time(datetime(2026, 3, 14, 4, 41, tzinfo=plus_two)) == "2026-03-14 02:41 UTC"
    assert format_time(datetime(2026, 3, 14, 2, 41)) == "2026-03-14 02:41 UTC"
    assert format_time(datetime(2026, 3, 14, 2, 41, tzinfo=UTC)) == "2026-03-14 02:41 UTC"
    assert format_time(None) == "—"
