"""Hostile log text: mentions, markup, a 1 MB line, unicode, control characters.

Whatever an attacker (or a noisy registry) writes into a log line, the payload stays valid JSON,
within every service limit, and unable to ping a channel, add a link, or break formatting.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from notifiers import Alert, AlertKind, Link, Step
from notifiers.delivery import encode_json
from notifiers.slack import render_digest_messages, render_message
from notifiers.teams import render_card, render_digest_cards
from notifiers.text import slack_text, teams_text
from notifiers.webhook import MAX_SAMPLE, render_alert
from tests.notifiers.checks import (
    TEAMS_MAX_BYTES,
    block_kit_problems,
    markdown_texts,
    validate_cards,
    walk,
)
from tests.notifiers.examples import REGISTRY_UNAUTHORIZED

EVIL = (
    "<!channel> <!here|here> <@U024BE7LH> <#C024BE7LH> @everyone @here "
    "[click me](https://evil.example/phish) ![img](https://evil.example/x.png) <https://evil.example|ok> "
    "*bold* _it_ ~strike~ `code` ```block``` # heading\n- item\n1. one &amp; & < > "
    "\x00\x07\x1b[31mred\x1b[0m\u202eevil\u200b\ufeff 🔥 Ωmega 漢字 e\u0301 "
)
HUGE = EVIL + "A" * 1_000_000 + EVIL

HOSTILE = replace(
    REGISTRY_UNAUTHORIZED,
    app=EVIL,
    environment=EVIL,
    revision=EVIL,
    cause_title=EVIL * 3,
    summary=HUGE,
    facts=tuple((f"{EVIL} {i}", HUGE if i % 7 == 0 else EVIL) for i in range(30)),
    steps=tuple(Step(EVIL * 5, HUGE if i % 3 == 0 else EVIL * 40) for i in range(40)),
    sample=HUGE,
    links=(
        Link(EVIL, "javascript:alert(1)"),
        Link(EVIL, "https://evil.example/a b<c>|d"),
        *(Link(f"{EVIL} {i}", f"https://portal.azure.com/#{i}" + "x" * 1900) for i in range(20)),
    ),
    previous_cause_title=EVIL,
)
KINDS = [replace(HOSTILE, kind=kind) for kind in AlertKind]
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202e\u200b\ufeff]")


def _serialized(payload: dict[str, Any]) -> str:
    return encode_json(payload).decode("utf-8")


def test_slack_hostile_messages_stay_within_block_kit_limits() -> None:
    for alert in KINDS:
        payload = render_message(alert)
        assert block_kit_problems(payload) == [], alert.kind
        assert not _CONTROL.search(_serialized(payload))
    pages = render_digest_messages([replace(HOSTILE, count=i) for i in range(300)])
    assert len(pages) > 1
    assert sorted(i for page in pages for i in page.shown) == list(range(300))
    for page in pages:
        assert block_kit_problems(page.payload) == []
        assert not _CONTROL.search(_serialized(page.payload))
    assert "more revision" in pages[0].payload["blocks"][-1]["elements"][0]["text"]


def test_slack_links_only_http_and_whole() -> None:
    text = json.dumps(render_message(HOSTILE))
    assert "javascript:" not in text
    assert "evil.example/a b" not in text


def test_teams_hostile_cards_fit_28_kb_and_parse(tmp_path: Path) -> None:
    messages = [render_card(alert) for alert in KINDS]
    pages = render_digest_cards([replace(HOSTILE, count=i) for i in range(300)])
    assert sorted(i for page in pages for i in page.shown) == list(range(300))
    messages.extend(page.payload for page in pages)
    paths = []
    for i, message in enumerate(messages):
        assert len(encode_json(message)) <= TEAMS_MAX_BYTES
        assert not _CONTROL.search(_serialized(message))
        paths.append(tmp_path / f"card-{i}.json")
        paths[-1].write_text(json.dumps(message), "utf-8")
    assert validate_cards(paths) == {str(p): [] for p in paths}


def test_teams_log_text_cannot_add_markdown_or_links() -> None:
    message = render_card(HOSTILE)
    texts = markdown_texts(message)
    assert texts
    for text in texts:
        assert not re.search(r"(?<!\\)[\[\]<>`~_]", text), text
        unescaped_stars = re.sub(r"\*\*(Cause:|\d+\.)\*\*|\\\*", "", text)
        assert "*" not in unescaped_stars.replace("**", ""), text
    for node in walk(message):
        if node.get("type") == "Action.OpenUrl":
            assert node["url"].startswith("https://portal.azure.com/")


def test_teams_commands_and_sample_are_plain_text_runs() -> None:
    card = render_card(REGISTRY_UNAUTHORIZED)["attachments"][0]["content"]
    runs = [node for node in walk(card) if node.get("type") == "TextRun"]
    commands = [step.command for step in REGISTRY_UNAUTHORIZED.steps if step.command]
    assert [run["text"] for run in runs] == [*commands, REGISTRY_UNAUTHORIZED.sample]
    assert all(run["fontType"] == "Monospace" for run in runs)


def test_huge_alert_renders_quickly() -> None:
    started = time.monotonic()
    for alert in KINDS:
        render_card(alert)
        render_message(alert)
        render_alert(alert)
    assert time.monotonic() - started < 5.0


def test_webhook_sample_is_cleaned_and_cut() -> None:
    data = render_alert(HOSTILE)
    assert len(data["sample"]) <= MAX_SAMPLE
    assert not _CONTROL.search(data["sample"])
    assert data["schema"] == "pullwatch.alert/v1"
    assert Alert.from_dict(data).app == HOSTILE.app


# --- properties of the escaping helpers -------------------------------------------------------

_TEXT = st.text(
    alphabet=st.sampled_from(list("&<>!@*_`~[]()#-.1 \\|\n\t\x00\x1bé🔥ab")), max_size=400
)


@given(_TEXT, st.integers(min_value=1, max_value=300))
@example("a&b", 3)  # found by hand: an entity cut by a too-short prefix became a bare "&"
@example("&&&&&&", 8)
def test_slack_text_never_cuts_an_entity(text: str, limit: int) -> None:
    out = slack_text(text, limit)
    assert len(out.encode("utf-16-le")) // 2 <= limit
    assert "<" not in out and ">" not in out
    assert re.sub(r"&(amp|lt|gt);", "", out).count("&") == 0


@given(_TEXT, st.integers(min_value=1, max_value=300))
@example("a*bc", 3)
@example("**********", 5)
def test_teams_text_never_ends_in_half_an_escape(text: str, limit: int) -> None:
    out = teams_text(text, limit)
    assert len(out) <= limit
    assert (len(out) - len(out.rstrip("\\"))) % 2 == 0
    assert not re.search(r"(?<!\\)(?:\\\\)*[\[\]<>`*_~|]", out.replace("\\\\", "")), out


@settings(max_examples=40, deadline=None)
@given(_TEXT, _TEXT, _TEXT)
def test_any_text_gives_valid_slack_and_small_teams(app: str, summary: str, sample: str) -> None:
    alert = replace(REGISTRY_UNAUTHORIZED, app=app, summary=summary, sample=sample * 50)
    assert block_kit_problems(render_message(alert)) == []
    assert len(encode_json(render_card(alert))) <= TEAMS_MAX_BYTES
