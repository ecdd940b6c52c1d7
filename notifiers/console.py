"""Terminal notifiers for the CLI: print messages as they would read in chat, or as JSON lines.

``ConsoleNotifier`` renders an alert as plain text close to what Teams or Slack show (the demo's
output); ``DryRunNotifier`` prints one JSON object per notification (``run --dry-run``). Both
write to a stream passed in; neither touches the network.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from notifiers.alert import Alert, AlertKind
from notifiers.base import (
    FIX_HEADING,
    HEADLINES,
    ICONS,
    OTHER_STEPS_HEADING,
    check_lines,
    digest_headline,
    pulls,
)

_SAMPLE_CHARS = 300


def _clean(text: str, limit: int = 500) -> str:
    """One line of printable text (log text can hold terminal escapes)."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def render_text(alert: Alert) -> str:
    """A chat-like plain-text rendering of one alert."""
    head = f"{ICONS[alert.kind]} {HEADLINES[alert.kind]}: {_clean(alert.headline_cause)}"
    lines = [head, f"   {alert.app} / {alert.revision}  (environment {alert.environment})"]
    if alert.kind is AlertKind.RESOLVED:
        lines.append(f"   {_clean(alert.resolution or 'resolved')}")
        return "\n".join(lines)
    if alert.kind is AlertKind.CAUSE_CHANGED and alert.previous_cause_title:
        lines.append(
            f"   cause: {_clean(alert.previous_cause_title)} → {_clean(alert.headline_cause)}"
        )
    lines.append(f"   {_clean(alert.summary)}")
    for line in check_lines(alert):
        lines.append(f"   ✔ {_clean(line, 1000)}" if alert.findings else f"   ⚠ {_clean(line)}")
    for label, value in alert.facts:
        lines.append(f"   {label}: {_clean(value)}")
    seen = ""
    if alert.first_seen and alert.last_seen:
        seen = f", first {alert.first_seen:%Y-%m-%d %H:%M} UTC, last {alert.last_seen:%H:%M} UTC"
    lines.append(f"   {pulls(alert.count)}{seen}")
    if alert.fix:
        lines.append(f"   {FIX_HEADING}:")
        lines.append(f"   → {_clean(alert.fix.text, 1000)}")
        if alert.fix.command:
            lines.append(f"      $ {_clean(alert.fix.command, 1000)}")
    if alert.steps:
        lines.append(f"   {OTHER_STEPS_HEADING}:" if alert.fix else "   Fix:")
        for number, step in enumerate(alert.steps, start=1):
            lines.append(f"   {number}. {_clean(step.text)}")
            if step.command:
                lines.append(f"      $ {_clean(step.command, 1000)}")
    if alert.sample:
        lines.append(f"   Log: {_clean(alert.sample, _SAMPLE_CHARS)}")
    for link in alert.links:
        lines.append(f"   {link.label}: {link.url}")
    return "\n".join(lines)


def render_digest_text(alerts: Sequence[Alert]) -> str:
    lines = [f"📋 {digest_headline(alerts)}"]
    for alert in alerts:
        lines.append(
            f"   • {alert.app} / {alert.revision}: {_clean(alert.headline_cause)} "
            f"({pulls(alert.count)}){' — resolved' if alert.kind is AlertKind.RESOLVED else ''}"
        )
    return "\n".join(lines)


class ConsoleNotifier:
    """Prints each message as it would read in chat (no network)."""

    service = "console"

    def __init__(self, stream: TextIO, channel: str = "console") -> None:
        self.channel = channel
        self._stream = stream

    def render(self, alert: Alert) -> dict[str, Any]:
        return {"text": render_text(alert)}

    def render_digest(self, alerts: Sequence[Alert]) -> dict[str, Any]:
        return {"text": render_digest_text(alerts)}

    def send(self, payload: dict[str, Any]) -> None:
        self._stream.write(str(payload["text"]) + "\n\n")
        self._stream.flush()


def dry_run_record(alert: Alert) -> dict[str, Any]:
    """The JSON line ``run --dry-run`` prints for one notification."""
    return {
        "kind": alert.kind.value,
        "environment": alert.environment,
        "app": alert.app,
        "revision": alert.revision,
        "cause": alert.cause,
        "title": alert.cause_title,
        "image": alert.image,
        "count": alert.count,
        "first_seen": alert.first_seen.isoformat() if alert.first_seen else None,
        "last_seen": alert.last_seen.isoformat() if alert.last_seen else None,
        "reason": alert.reason,
        "findings": [finding.id for finding in alert.findings],
        "check_error": alert.check_error,
    }


class DryRunNotifier:
    """Prints one JSON object per notification instead of posting (``run --dry-run``)."""

    service = "dry-run"

    def __init__(self, stream: TextIO, channel: str = "dry-run") -> None:
        self.channel = channel
        self._stream = stream

    def render(self, alert: Alert) -> dict[str, Any]:
        return {"records": [dry_run_record(alert)]}

    def render_digest(self, alerts: Sequence[Alert]) -> dict[str, Any]:
        return {"records": [dry_run_record(alert) for alert in alerts]}

    def send(self, payload: dict[str, Any]) -> None:
        for record in payload["records"]:
            self._stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._stream.flush()
