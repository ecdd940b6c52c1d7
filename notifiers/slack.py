"""Slack: Block Kit messages with a plain ``text`` fallback, posted to an incoming webhook.

Slack answers ``200`` with the body ``ok``; any other 2xx answer is a failure. Untrusted text is
escaped (``& < >``, which also disarms ``<!channel>`` and ``<@U…>`` mentions) and broadcast words
such as ``@here`` are neutralised; commands and the sample go into code blocks. Every text is cut
to Block Kit's limits (50 blocks, 3000 characters per section, 150 per header, 10 fields). A
digest is grouped by cause and split into as many messages as it takes
(``render_digest_messages``), each saying which revisions it lists.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from notifiers.delivery import Reply, WebhookChannel
from notifiers.text import (
    format_time,
    head,
    one_line,
    plain_text,
    slack_code,
    slack_fit,
    slack_inline_code,
    slack_link,
    slack_text,
    utf16_len,
)

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_FALLBACK_TEXT = 1000  # the notification preview; Slack cuts `text` itself far later
MAX_STEPS = 10
MAX_SAMPLE = 1500


def accept_ok(reply: Reply) -> str | None:
    """Slack's success rule: status 200 and the body exactly ``ok``."""
    if reply.status == 200 and reply.body == "ok":
        return None
    return f"Slack answered {plain_text(reply.body, 80)!r} instead of 'ok'"


class SlackNotifier(WebhookChannel):
    """Posts Block Kit messages to one Slack incoming webhook."""

    service = "slack"
    accept = staticmethod(accept_ok)

    def render(self, alert: Alert) -> dict[str, Any]:
        return render_message(alert)

    def render_digest(self, alerts: Sequence[Alert]) -> dict[str, Any]:
        return render_digest_messages(alerts)[0].payload

    def render_digest_pages(
        self, alerts: Sequence[Alert], *, links: Sequence[Link] = (), see_all: str | None = None
    ) -> list[DigestPage]:
        return render_digest_messages(alerts, links=links, see_all=see_all)


def render_message(alert: Alert) -> dict[str, Any]:
    """The webhook payload for one alert."""
    if alert.about_pullwatch:
        return render_health(alert)
    what = (
        f"{alert.name} can pull its image again"
        if alert.kind is AlertKind.RESOLVED
        else alert.headline_cause
    )
    blocks: list[dict[str, Any]] = [_header(f"{ICONS[alert.kind]} {HEADLINES[alert.kind]}: {what}")]
    where = list(alert.where)
    if alert.kind is AlertKind.RESOLVED:
        blocks.append(
            _section(
                slack_text(alert.resolution or alert.summary, 1000)
                + f"\nWas: {slack_text(alert.cause_title, 200)} · {attempts_text(alert)} · "
                f"{format_time(alert.first_seen)} to {format_time(alert.last_seen)}",
                fields=where,
            )
        )
        return _message(_fallback(alert), blocks)
    intro = slack_text(alert.summary, 1500)
    if alert.kind is AlertKind.CAUSE_CHANGED:
        before = alert.previous_cause_title or alert.previous_cause or "unknown"
        intro = (
            f"*Cause:* ~{slack_text(before, 300)}~ → *{slack_text(alert.headline_cause, 300)}*\n"
            + intro
        )
    blocks.append(_section(intro, fields=[*where, ("Count", attempts_text(alert))]))
    checked = check_lines(alert)
    if checked:
        lead, *others = (slack_text(line, 1000) for line in checked)
        blocks.append(_section("\n".join([f"*{lead}*", *others])))
    facts = list(alert.facts[: 2 * MAX_FIELDS])
    for start in range(0, len(facts), MAX_FIELDS):
        blocks.append(_section(None, fields=facts[start : start + MAX_FIELDS]))
    if alert.fix:
        text = f"*{FIX_HEADING}*\n{slack_text(alert.fix.text, 500)}"
        if alert.fix.command:
            text += f"\n```{slack_code(alert.fix.command, MAX_SECTION_TEXT - 600)}```"
        blocks.append(_section(text))
    steps = alert.steps[:MAX_STEPS]
    if steps:
        blocks.append(_section(f"*{OTHER_STEPS_HEADING if alert.fix else 'What to do'}*"))
        for number, step in enumerate(steps, 1):
            text = f"*{number}.* {slack_text(step.text, 500)}"
            if step.command:
                text += f"\n```{slack_code(step.command, MAX_SECTION_TEXT - 600)}```"
            blocks.append(_section(text))
        if len(alert.steps) > len(steps):
            blocks.append(_context(f"…and {len(alert.steps) - len(steps)} more step(s)"))
    if alert.sample:
        sample = slack_code(one_line(head(alert.sample, MAX_SAMPLE)), MAX_SAMPLE)
        blocks.append(_section(f"*Sample log line*\n```{sample}```"))
    links = _links(alert.links)
    blocks.append(
        _context(
            f"First seen {format_time(alert.first_seen)} · last seen {format_time(alert.last_seen)}"
            + (f" · {links}" if links else "")
        )
    )
    return _message(_fallback(alert), blocks)


def render_health(alert: Alert) -> dict[str, Any]:
    """A notice about pullwatch itself: what is wrong (or works again), the facts, the fix."""
    blocks: list[dict[str, Any]] = [
        _header(f"{ICONS[alert.kind]} {alert.cause_title}"),
        _section(slack_text(alert.summary, 1500), fields=list(alert.facts[:MAX_FIELDS])),
    ]
    steps = alert.steps[:MAX_STEPS]
    if steps:
        blocks.append(_section("*What to do*"))
        for number, step in enumerate(steps, 1):
            text = f"*{number}.* {slack_text(step.text, 500)}"
            if step.command:
                text += f"\n```{slack_code(step.command, MAX_SECTION_TEXT - 600)}```"
            blocks.append(_section(text))
    links = _links(alert.links)
    blocks.append(
        _context(slack_text(HEADLINES[alert.kind], 200) + (f" · {links}" if links else ""))
    )
    fallback = slack_text(f"{HEADLINES[alert.kind]}: {alert.summary}", MAX_FALLBACK_TEXT)
    return _message(fallback, blocks)


MAX_DIGEST_LINES = 150  # revisions per message at most, however short their lines


def render_digest_messages(
    alerts: Sequence[Alert], *, links: Sequence[Link] = (), see_all: str | None = None
) -> list[DigestPage]:
    """The digest as messages grouped by cause, each within Block Kit's limits; together they
    list every revision once (a message lists as many as fit, the next goes on)."""
    groups = cause_groups(alerts)
    order = digest_order(groups)
    pages: list[DigestPage] = []
    start = 0
    while start < len(order) or not pages:
        payload, shown = _digest_page(alerts, groups, order, start, links, see_all)
        pages.append(DigestPage(payload, tuple(index for _, index in order[start : start + shown])))
        start += max(shown, 1)
    return pages


def _digest_line(alert: Alert) -> str:
    if alert.job or alert.deployment is not None:
        name, detail = alert.where_parts[0], alert.where_parts[1]
        return (
            f"• *{slack_text(name, 100)}* ({slack_text(detail, 80)}) — {attempts_text(alert)} · "
            f"last {format_time(alert.last_seen)}"
        )
    return (
        f"• *{slack_text(alert.app, 100)}* `{slack_inline_code(alert.revision, 100)}` "
        f"({slack_text(alert.environment, 80)}) — {attempts_text(alert)} · "
        f"last {format_time(alert.last_seen)}"
    )


def _digest_page(
    alerts: Sequence[Alert],
    groups: Sequence[CauseGroup],
    order: Sequence[tuple[CauseGroup, int]],
    start: int,
    links: Sequence[Link],
    see_all: str | None,
) -> tuple[dict[str, Any], int]:
    """One message from ``order[start:]``: the payload and how many revisions it lists."""
    failing = any(a.kind is not AlertKind.RESOLVED for a in alerts)
    headline = digest_headline(alerts)
    room = MAX_BLOCKS - 4  # header, subtitle, and two footer blocks
    blocks: list[dict[str, Any]] = []
    lines: list[str] = []
    shown = 0
    current: CauseGroup | None = None

    def flush() -> None:
        if lines:
            blocks.append(_section("\n".join(lines)))
            lines.clear()

    for group, index in order[start : start + MAX_DIGEST_LINES]:
        if group is not current:
            flush()
            if len(blocks) + 2 > room:
                break
            current = group
            continued = group.members[0] != index
            size = f"{group.size} revision{'' if group.size == 1 else 's'}"
            text = f"*{'✅ ' if group.resolved else ''}{slack_text(group.title, 200)}* · {size}"
            text += " (continued)" if continued else ""
            if group.command and not continued:
                text += f"\n_{slack_text(fix_label(group), 200)}_"
                text += f"\n```{slack_code(group.command, MAX_SECTION_TEXT - 600)}```"
            blocks.append(_section(text))
        line = _digest_line(alerts[index])
        if utf16_len("\n".join([*lines, line])) > MAX_SECTION_TEXT:
            flush()
        if not lines and len(blocks) + 1 > room:
            break
        lines.append(line)
        shown += 1
    flush()
    total = len(order)
    paged = start > 0 or start + shown < total
    subtitle = digest_subtitle(alerts, groups)
    if paged:
        subtitle += " · " + page_note(start, shown, total)
    head = [
        _header(f"{'🔴' if failing else '✅'} {headline}"),
        _context(slack_text(subtitle, 1000)),
    ]
    footer = []
    rest = total - start - shown
    if rest > 0:
        footer.append(more_note(rest))
    if paged and see_all:
        footer.append(f"Every failing revision: `{slack_inline_code(see_all, 200)}`")
    link_text = _links(links)
    if link_text:
        footer.append(link_text)
    tail = [_context(" · ".join(footer))] if footer else []
    return _message(slack_text(headline, MAX_FALLBACK_TEXT), head + blocks + tail), shown


# --- blocks ----------------------------------------------------------------------------------


def _message(text: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"text": text, "blocks": blocks[:MAX_BLOCKS]}


def _header(text: str) -> dict[str, Any]:
    # plain_text is shown as is (no mrkdwn, no mentions): clean and cut, but do not escape.
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": plain_text(text, MAX_HEADER_TEXT), "emoji": True},
    }


def _section(text: str | None, *, fields: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """A section; ``text`` is mrkdwn already escaped, field labels/values are raw (untrusted)."""
    block: dict[str, Any] = {"type": "section"}
    if text is not None:
        block["text"] = {"type": "mrkdwn", "text": slack_fit(text, MAX_SECTION_TEXT) or "—"}
    if fields:
        block["fields"] = [
            {
                "type": "mrkdwn",
                "text": slack_fit(
                    f"*{slack_text(label, 100) or '—'}*\n"
                    f"{slack_text(value, MAX_FIELD_TEXT - 200) or '—'}",
                    MAX_FIELD_TEXT,
                ),
            }
            for label, value in fields[:MAX_FIELDS]
        ]
    return block


def _context(text: str) -> dict[str, Any]:
    """A context line; ``text`` is mrkdwn already escaped."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": slack_fit(text, 2000)}]}


def _links(links: Sequence[Link], room: int = 1500) -> str:
    """Whole ``<url|label>`` links joined by `` · ``; never one cut in half."""
    shown: list[str] = []
    for link in links:
        text = slack_link(link.url, link.label)
        if text is not None and utf16_len(" · ".join([*shown, text])) <= room:
            shown.append(text)
    return " · ".join(shown)


def _fallback(alert: Alert) -> str:
    """The plain ``text`` shown in notifications: one escaped line."""
    what = "resolved" if alert.kind is AlertKind.RESOLVED else alert.headline_cause
    line = f"{HEADLINES[alert.kind]}: {alert.where_text}: {what}"
    return slack_text(line, MAX_FALLBACK_TEXT)
