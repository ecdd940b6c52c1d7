"""Microsoft Teams: an Adaptive Card posted to a Workflows (Power Automate) webhook.

The card travels in the ``{"type": "message", "attachments": [...]}`` envelope the Workflows
trigger expects; the workflow answers ``202 Accepted`` with an empty body. Another 2xx counts only
when its body holds no error (``accept_teams``): a flow's own Response step, or the retired
connectors, answer 200 with an error text when the message was not posted. Untrusted text is
kept from adding markup: TextBlock and Fact text is markdown-escaped, and commands and the sample
log line go into ``RichTextBlock``/``TextRun`` elements, which never parse markdown (so a command
such as ``--assignee <principal-id>`` is shown, and copied, exactly). A message is limited to about
28 KB: the serialized UTF-8 payload is measured and the card is trimmed (sample, steps, facts)
until it fits. A digest is grouped by cause (each section with the fix its revisions share)
and split into as many cards as it takes (``render_digest_cards``); each card says which revisions
it lists, so only those count as delivered when it is accepted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from notifiers.alert import Alert, AlertKind, Link
from notifiers.base import (
    FIX_HEADING,
    HEADLINES,
    ICONS,
    OTHER_STEPS_HEADING,
    CauseGroup,
    DigestPage,
    attempts_text,
    cause_groups,
    check_lines,
    digest_headline,
    digest_order,
    digest_subtitle,
    fix_label,
    more_note,
    page_note,
)
from notifiers.delivery import Reply, WebhookChannel, encode_json
from notifiers.text import format_time, head, one_line, plain_text, safe_url, teams_text

CARD_VERSION = "1.5"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MAX_PAYLOAD_BYTES = 28_000  # Teams rejects messages over about 28 KB (serialized UTF-8 JSON)
MAX_ACTIONS = 5  # the adaptivecards default host config allows 5 actions
MAX_DIGEST_ROWS = 150  # rows tried per card before measuring; fewer when they do not fit


@dataclass(frozen=True)
class _Room:
    """How much of each part a card may show; smaller rooms are tried until the card fits."""

    sample: int = 1000
    steps: int = 10
    step_text: int = 400
    command: int = 1000
    facts: int = 20
    fact_value: int = 400
    summary: int = 1000
    links: int = MAX_ACTIONS


_ROOMS = (
    _Room(),
    _Room(sample=300, command=600, fact_value=200),
    _Room(sample=0, steps=6, step_text=200, command=400, facts=12, fact_value=150),
    _Room(sample=0, steps=3, step_text=150, command=300, facts=6, fact_value=100, summary=400),
    _Room(sample=0, steps=0, facts=0, summary=300, links=3),
)


def accept_teams(reply: Reply) -> str | None:
    """Teams' success rule: 202 (the Workflows trigger took it); another 2xx only when its body
    is empty, ``1`` (the retired connectors' success), or JSON without an ``error``."""
    text = reply.body.strip()
    if reply.status == 202 or text in ("", "1"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        if "error" not in data:
            return None
        error = data["error"]
        if isinstance(error, dict):
            text = ": ".join(str(error[k]) for k in ("code", "message") if error.get(k)) or text
        elif isinstance(error, str):
            text = error
    elif data is not None or not _ERROR_WORDS.search(text):
        return None  # a JSON value or plain text that does not report an error
    return f"Teams answered {reply.status} with an error: {plain_text(text, 120)!r}"


_ERROR_WORDS = re.compile(r"\b(error|fail(ed|ure)?|invalid|denied|forbidden)\b", re.IGNORECASE)


class TeamsNotifier(WebhookChannel):
    """Posts Adaptive Cards to one Teams channel's Workflows webhook."""

    service = "teams"
    accept = staticmethod(accept_teams)

    def render(self, alert: Alert) -> dict[str, Any]:
        return render_card(alert)

    def render_digest(self, alerts: Sequence[Alert]) -> dict[str, Any]:
        return render_digest_cards(alerts)[0].payload

    def render_digest_pages(
        self, alerts: Sequence[Alert], *, links: Sequence[Link] = (), see_all: str | None = None
    ) -> list[DigestPage]:
        return render_digest_cards(alerts, links=links, see_all=see_all)


def render_card(alert: Alert, *, max_bytes: int = MAX_PAYLOAD_BYTES) -> dict[str, Any]:
    """The Workflows message for one alert, at most ``max_bytes`` when serialized."""
    payload: dict[str, Any] = {}
    if alert.about_pullwatch:
        for room in _ROOMS:
            payload = envelope(_health_body(alert, room), _actions(alert.links, room.links))
            if len(encode_json(payload)) <= max_bytes:
                return payload
        return envelope(_health_body(alert, _Room(0, 0, 0, 0, 0, 0, 200, 0)), [])
    for room in _ROOMS:
        payload = envelope(_body(alert, room), _actions(alert.links, room.links))
        if len(encode_json(payload)) <= max_bytes:
            return payload
    return envelope(_body(alert, _Room(0, 0, 0, 0, 0, 0, 200, 0)), [])  # titles and summary only


def render_digest_cards(
    alerts: Sequence[Alert],
    *,
    links: Sequence[Link] = (),
    see_all: str | None = None,
    max_bytes: int = MAX_PAYLOAD_BYTES,
) -> list[DigestPage]:
    """The digest as cards grouped by cause, each within ``max_bytes``; together they list every
    revision once (a card lists as many as fit, the next card goes on)."""
    groups = cause_groups(alerts)
    order = digest_order(groups)
    pages: list[DigestPage] = []
    start = 0
    while start < len(order) or not pages:
        count = min(len(order) - start, MAX_DIGEST_ROWS)
        while True:
            page = order[start : start + count]
            payload = envelope(
                _digest_body(alerts, groups, page, start, len(order), see_all),
                _actions(links, MAX_ACTIONS),
            )
            if len(encode_json(payload)) <= max_bytes or count <= 1:
                break
            count = max(1, min(count - 1, count * 3 // 4))
        pages.append(DigestPage(payload, tuple(index for _, index in page)))
        start += max(count, 1)
    return pages


def envelope(body: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    """Wrap card elements in the message envelope of platform-facts §4."""
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": body,
    }
    if actions:
        card["actions"] = actions
    card["msteams"] = {"width": "Full"}
    return {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card}],
    }


# --- card parts ------------------------------------------------------------------------------


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _code(text: str, limit: int) -> dict[str, Any]:
    """Monospace text that is never parsed as markdown (a TextRun), in a shaded container."""
    run = {"type": "TextRun", "text": plain_text(text, limit, single_line=False) or " "}
    run["fontType"] = "Monospace"
    return {
        "type": "Container",
        "style": "emphasis",
        "items": [{"type": "RichTextBlock", "inlines": [run]}],
    }


def _heading(text: str) -> dict[str, Any]:
    return _text(text, weight="Bolder", separator=True, spacing="Medium")


def _title(alert: Alert) -> list[dict[str, Any]]:
    resolved = alert.kind is AlertKind.RESOLVED
    headline = f"{ICONS[alert.kind]} {HEADLINES[alert.kind]}: "
    what = f"{alert.name} can pull its image again" if resolved else alert.headline_cause
    where = " · ".join(teams_text(part, 120) for part in alert.where_parts)
    return [
        {
            "type": "Container",
            "style": "good" if resolved else "attention",
            "bleed": True,
            "items": [
                _text(
                    headline + teams_text(what, 200),
                    size="Large",
                    weight="Bolder",
                    color="Good" if resolved else "Attention",
                ),
                _text(where, isSubtle=True, spacing="None"),
            ],
        }
    ]


def _body(alert: Alert, room: _Room) -> list[dict[str, Any]]:
    body = _title(alert)
    if alert.kind is AlertKind.CAUSE_CHANGED:
        before = alert.previous_cause_title or alert.previous_cause or "unknown"
        body.append(
            _text(
                f"**Cause:** {teams_text(before, 200)} → **{teams_text(alert.headline_cause, 200)}**"
            )
        )
    if alert.kind is AlertKind.RESOLVED:
        body.append(_text(teams_text(alert.resolution or alert.summary, room.summary)))
        body.append(
            _text(
                f"Was: {teams_text(alert.cause_title, 200)} · {attempts_text(alert)} · "
                f"{format_time(alert.first_seen)} to {format_time(alert.last_seen)}",
                isSubtle=True,
                size="Small",
            )
        )
        return body
    body.append(_text(teams_text(alert.summary, room.summary)))
    for number, line in enumerate(check_lines(alert)):
        text = teams_text(line, room.summary)
        body.append(_text(f"**{text}**" if number == 0 else text, spacing="Small"))
    facts = [(label, value) for label, value in alert.facts[: room.facts]]
    if room.facts:
        facts += [
            ("Count", attempts_text(alert)),
            ("First seen", format_time(alert.first_seen)),
            ("Last seen", format_time(alert.last_seen)),
        ]
    if facts:
        body.append(
            {
                "type": "FactSet",
                "facts": [
                    {"title": teams_text(label, 60), "value": teams_text(value, room.fact_value)}
                    for label, value in facts
                ],
            }
        )
    if alert.fix and room.steps:
        body.append(_heading(FIX_HEADING))
        body.append(_text(teams_text(alert.fix.text, room.step_text)))
        if alert.fix.command and room.command:
            body.append(_code(alert.fix.command, room.command))
    steps = alert.steps[: room.steps]
    if steps:
        body.append(_heading(OTHER_STEPS_HEADING if alert.fix else "What to do"))
        for number, step in enumerate(steps, 1):
            body.append(_text(f"**{number}.** {teams_text(step.text, room.step_text)}"))
            if step.command and room.command:
                body.append(_code(step.command, room.command))
        if len(alert.steps) > len(steps):
            body.append(_text(f"…and {len(alert.steps) - len(steps)} more step(s)", isSubtle=True))
    if alert.sample and room.sample:
        body.append(_heading("Sample log line"))
        body.append(_code(one_line(head(alert.sample, room.sample)), room.sample))
    if not room.facts:
        body.append(
            _text(
                f"{attempts_text(alert)} · first seen {format_time(alert.first_seen)} · "
                f"last seen {format_time(alert.last_seen)}",
                isSubtle=True,
                size="Small",
            )
        )
    return body


def _health_body(alert: Alert, room: _Room) -> list[dict[str, Any]]:
    """A notice about pullwatch itself: what is wrong (or works again), the facts, the fix."""
    good = alert.kind is AlertKind.HEALTH_RECOVERED
    body: list[dict[str, Any]] = [
        {
            "type": "Container",
            "style": "good" if good else "warning",
            "bleed": True,
            "items": [
                _text(
                    f"{ICONS[alert.kind]} {teams_text(alert.cause_title, 200)}",
                    size="Large",
                    weight="Bolder",
                    color="Good" if good else "Warning",
                ),
                _text(HEADLINES[alert.kind], isSubtle=True, spacing="None"),
            ],
        },
        _text(teams_text(alert.summary, room.summary)),
    ]
    if alert.facts and room.facts:
        body.append(
            {
                "type": "FactSet",
                "facts": [
                    {"title": teams_text(label, 60), "value": teams_text(value, room.fact_value)}
                    for label, value in alert.facts[: room.facts]
                ],
            }
        )
    steps = alert.steps[: room.steps]
    if steps:
        body.append(_heading("What to do"))
        for number, step in enumerate(steps, 1):
            body.append(_text(f"**{number}.** {teams_text(step.text, room.step_text)}"))
            if step.command and room.command:
                body.append(_code(step.command, room.command))
    return body


def _actions(links: Sequence[Link], limit: int) -> list[dict[str, Any]]:
    actions: list[dict[str, Any]] = []
    for link in links:
        url = safe_url(link.url)
        if url is not None and len(actions) < limit:
            title = plain_text(link.label, 60) or "Open"
            actions.append({"type": "Action.OpenUrl", "title": title, "url": url})
    return actions


def _digest_body(
    alerts: Sequence[Alert],
    groups: Sequence[CauseGroup],
    page: Sequence[tuple[CauseGroup, int]],
    start: int,
    total: int,
    see_all: str | None,
) -> list[dict[str, Any]]:
    failing = any(a.kind is not AlertKind.RESOLVED for a in alerts)
    paged = start > 0 or start + len(page) < total
    subtitle = digest_subtitle(alerts, groups)
    if paged:
        subtitle += " · " + page_note(start, len(page), total)
    body: list[dict[str, Any]] = [
        {
            "type": "Container",
            "style": "attention" if failing else "good",
            "bleed": True,
            "items": [
                _text(
                    f"{'🔴' if failing else '✅'} {digest_headline(alerts)}",
                    size="Large",
                    weight="Bolder",
                    color="Attention" if failing else "Good",
                ),
                _text(teams_text(subtitle, 300), isSubtle=True, spacing="None"),
            ],
        }
    ]
    position = 0
    while position < len(page):
        group = page[position][0]
        members = [index for g, index in page[position:] if g is group]
        position += len(members)
        continued = group.members[0] != members[0]
        size = f"{group.size} revision{'' if group.size == 1 else 's'}"
        heading = f"{'✅ ' if group.resolved else ''}{teams_text(group.title, 200)} · {size}"
        body.append(_heading(heading + (" (continued)" if continued else "")))
        if group.command and not continued:
            body.append(_text(teams_text(fix_label(group), 200), spacing="Small", isSubtle=True))
            body.append(_code(group.command, 1000))
        facts = []
        for index in members:
            alert = alerts[index]
            value = f"{teams_text(alert.environment, 60)} · {attempts_text(alert)} · last "
            value += format_time(alert.last_seen)
            title = " · ".join(alert.where_parts[:2])
            facts.append({"title": teams_text(title, 120), "value": value})
        body.append({"type": "FactSet", "facts": facts})
    rest = total - start - len(page)
    if rest > 0:
        body.append(_text(more_note(rest), isSubtle=True, separator=True))
    if paged and see_all:
        body.append(_text("Every failing revision, from a terminal:", isSubtle=True))
        body.append(_code(see_all, 200))
    return body
