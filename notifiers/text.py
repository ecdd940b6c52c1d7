"""Making untrusted text safe to show: cleaning, escaping for Slack and Teams, fitting to limits.

Everything that comes from logs (the sample line, facts, even names) is untrusted: it may hold
control characters, mentions such as ``<!channel>``, markup, or a megabyte of text. These pure
functions clean it, escape it for one service, and cut it to a limit without ever splitting an
escape sequence (``&amp;``, ``\\*``) in half. Lengths are measured the way each service does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

ELLIPSIS = "…"

# C0/C1 controls (tab and newline are handled separately), zero-width and bidi-override
# characters: invisible, and able to reorder or hide the text around them.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_SPACES = re.compile(r"\s+")


def head(text: str, limit: int) -> str:
    """A prefix of ``text`` long enough to fill ``limit`` after cleaning (skip the rest of 1 MB)."""
    return text[: 8 * limit + 1024]


def clean(text: str) -> str:
    """Drop invisible and control characters; keep newlines (``\\r\\n`` → ``\\n``), tabs → space."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _INVISIBLE.sub("", text)


def one_line(text: str) -> str:
    """``clean`` and collapse every run of whitespace (newlines included) to one space."""
    return _SPACES.sub(" ", clean(text)).strip()


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as JavaScript and Slack count it (an emoji counts 2)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def truncate(text: str, limit: int, *, measure: Callable[[str], int] = len) -> str:
    """Cut ``text`` so that ``measure(result) <= limit``, ending with ``…`` when cut."""
    if measure(text) <= limit:
        return text
    if limit <= 0:
        return ""
    return _fit_units(list(text[:limit]), limit, measure)


def _fit_units(units: list[str], limit: int, measure: Callable[[str], int]) -> str:
    """Join whole units (characters or escape sequences) followed by ``…`` within ``limit``."""
    room = limit - measure(ELLIPSIS)
    out: list[str] = []
    used = 0
    for unit in units:
        size = measure(unit)
        if used + size > room:
            break
        out.append(unit)
        used += size
    return "".join(out).rstrip() + ELLIPSIS


# --- Slack mrkdwn ---------------------------------------------------------------------------

# Slack's only escapes; every other character is literal.
_SLACK_ENTITY = re.compile(r"&(?:amp|lt|gt);|.", re.DOTALL)
# Words Slack may turn into a broadcast mention when a message is sent with link_names or
# parse=full; a word joiner after the @ keeps them inert (and reads the same).
_BROADCAST = re.compile(r"(?<!\w)@(channel|here|everyone)\b(?!\.\w)", re.IGNORECASE)
_WORD_JOINER = "\u2060"


def slack_escape(text: str) -> str:
    """Escape ``& < >`` (which also disarms ``<!channel>``, ``<@U123>``, ``<url|label>``)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda m: "@" + _WORD_JOINER + m.group(1), text)


def slack_text(text: str, limit: int, *, single_line: bool = True) -> str:
    """Untrusted text as mrkdwn: cleaned, escaped, and at most ``limit`` UTF-16 units."""
    text = head(text, limit)
    raw = one_line(text) if single_line else clean(text)
    return slack_fit(slack_escape(raw[: limit + 1]), limit)


def slack_fit(escaped: str, limit: int) -> str:
    """Cut already-escaped mrkdwn to ``limit`` without splitting an ``&amp;``-style entity."""
    if utf16_len(escaped) <= limit:
        return escaped
    # Tokenise a little past the limit so an entity near the cut stays one unit.
    return _fit_units(_SLACK_ENTITY.findall(escaped[: limit + 5]), limit, utf16_len)


def slack_code(text: str, limit: int) -> str:
    """Untrusted text for inside a ``` code block: escaped, and unable to close the block.

    Backticks become ``ˋ`` (U+02CB): Slack has no escape for them inside a code block.
    """
    raw = clean(head(text, limit))[: limit + 1].replace("`", "\u02cb")
    return slack_fit(slack_escape(raw), limit)


def slack_inline_code(text: str, limit: int) -> str:
    """Untrusted text for inside a `code span`: one line, escaped, without backticks."""
    return slack_text(text.replace("`", "'"), limit)


def slack_link(url: str, label: str, limit: int = 500) -> str | None:
    """``<url|label>`` for an http(s) URL, or ``None`` when the URL is not one we link to."""
    safe = safe_url(url)
    if safe is None:
        return None
    shown = slack_text(label.replace("|", "/"), 100) or "link"
    link = f"<{safe}|{shown}>"
    return link if utf16_len(link) <= limit else None


# --- Teams (Adaptive Card TextBlock markdown) ------------------------------------------------

# Characters that start markdown constructs anywhere in TextBlock text (emphasis, links, images,
# code, html), and the line starts that make headings, quotes and lists. A backslash before ASCII
# punctuation shows the character itself.
_MARKDOWN = re.compile(r"([\\`*_\[\]<>~|])")
_MARKDOWN_LINE_START = re.compile(
    r"^([ \t]*)(?:(#{1,6}|[+\-])(?=[ \t]|$)|(-)(?=-{2,}[ \t]*$)|(\d{1,9})([.)])(?=[ \t]|$))",
    re.MULTILINE,
)
_MARKDOWN_UNIT = re.compile(r"\\.|.", re.DOTALL)


def teams_text(text: str, limit: int, *, single_line: bool = True) -> str:
    """Untrusted text for a TextBlock or Fact: markdown escaped, at most ``limit`` characters."""
    text = head(text, limit)
    raw = one_line(text) if single_line else clean(text)
    escaped = _MARKDOWN.sub(r"\\\1", raw[: limit + 1])
    escaped = _MARKDOWN_LINE_START.sub(_escape_line_start, escaped)
    if len(escaped) <= limit:
        return escaped
    return _fit_units(_MARKDOWN_UNIT.findall(escaped[: limit + 2]), limit, len)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, marker, rule, number, dot = match.groups()
    if marker is not None:  # "# heading", "- item", "+ item"
        return f"{indent}\\{marker}"
    if rule is not None:  # "---" (a horizontal rule)
        return f"{indent}\\{rule}"
    return f"{indent}{number}\\{dot}"  # "1. item" → "1\. item"


def plain_text(text: str, limit: int, *, single_line: bool = True) -> str:
    """Untrusted text for places that never parse markup (TextRun, Slack plain_text)."""
    text = head(text, limit)
    raw = one_line(text) if single_line else clean(text).strip()
    return truncate(raw, limit, measure=utf16_len)


# --- shared ----------------------------------------------------------------------------------


def safe_url(url: str) -> str | None:
    """``url`` when it is an absolute http(s) URL without spaces or brackets; else ``None``."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    if any(ch in url for ch in ' <>|"\\') or _INVISIBLE.search(url) or len(url) > 2000:
        return None
    return url


def format_time(value: datetime | None) -> str:
    """``2026-03-14 02:41 UTC`` (naive times are taken as UTC); ``—`` when unknown."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
