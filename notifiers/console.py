"""Notifiers that never touch the network: chat-like text for the demo, JSON lines for dry runs.

``ConsoleNotifier`` renders an alert as plain text close to what Teams or Slack show (the demo's
output). ``DryRunNotifier`` stands in for a channel when ``PULLWATCH_DRY_RUN`` (or
``run --dry-run``) is on: it renders with the real channel's notifier (so a rendering error
still shows) and writes one JSON object per notification, naming the channel, instead of
posting; ``write`` is a stream's (the CLI) or a logger's (the Function).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from notifiers.alert import Alert, AlertKind
from notifiers.base import (
    FIX_HEADING,
    HEADLINES,
    ICONS,
    OTHER_STEPS_HEADING,
    attempts_text,
    check_lines,
    digest_headline,
)

if TYPE_CHECKING:
    from notifiers.base import Notifier

_SAMPLE_CHARS = 300


def _clean(text: str, limit: int = 500) -> str:
    """One line of printable text (log text can hold terminal escapes)."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def render_text(alert: Alert) -> str:
    """A chat-like plain-text rendering of one alert."""
    if alert.about_pullwatch:
        return render_health_text(alert)
    head = f"{ICONS[alert.kind]} {HEADLINES[alert.kind]}: {_clean(alert.headline_cause)}"
    lines = [head, f"   {where_line(alert)}"]
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
    lines.append(f"   {attempts_text(alert)}{seen}")
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


def where_line(alert: Alert) -> str:
    """``app / revision  (environment env)``, ``job j  (environment env; executions ...)``, or
    ``deployment of <image> to app by <caller> at <time>``."""
    if alert.deployment is not None:
        return _clean(f"{alert.where_text} at {alert.deployment.at:%Y-%m-%d %H:%M} UTC")
    if alert.job:
        runs = f"; executions {', '.join(alert.executions[-3:])}" if alert.executions else ""
        return _clean(f"job {alert.job}  (environment {alert.environment}{runs})")
    return f"{alert.app} / {alert.revision}  (environment {alert.environment})"


def render_health_text(alert: Alert) -> str:
    """A notice about pullwatch itself, as plain text."""
    lines = [
        f"{ICONS[alert.kind]} {_clean(alert.cause_title)}",
        f"   {_clean(alert.summary, 1000)}",
    ]
    lines.extend(f"   {label}: {_clean(value)}" for label, value in alert.facts)
    if alert.steps:
        lines.append("   What to do:")
        for number, step in enumerate(alert.steps, start=1):
            lines.append(f"   {number}. {_clean(step.text)}")
            if step.command:
                lines.append(f"      $ {_clean(step.command, 1000)}")
    return "\n".join(lines)


def render_digest_text(alerts: Sequence[Alert]) -> str:
    lines = [f"📋 {digest_headline(alerts)}"]
    for alert in alerts:
        lines.append(
            f"   • {_clean(' / '.join(alert.where_parts[:2]))}: {_clean(alert.headline_cause)} "
            f"({attempts_text(alert)}){' — resolved' if alert.kind is AlertKind.RESOLVED else ''}"
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

    def send(self, payload: dict[str, Any], *, deadline: float | None = None) -> None:
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
        **({"job": alert.job, "executions": list(alert.executions)} if alert.job else {}),
        **(
            {"deployed_by": alert.deployment.caller, "deployed_at": alert.deployment.at.isoformat()}
            if alert.deployment
            else {}
        ),
    }


class DryRunNotifier:
    """Prints (or logs) one JSON object per notification instead of posting it."""

    def __init__(
        self,
        write: Callable[[str], None],
        channel: str = "dry-run",
        *,
        inner: Notifier | None = None,
    ) -> None:
        self.channel = inner.channel if inner is not None else channel
        self.service = inner.service if inner is not None else "dry-run"
        self.sends_digests: bool = getattr(inner, "sends_digests", True)
        self._inner = inner
        self._write = write

    @classmethod
    def to_stream(
        cls, stream: TextIO, channel: str = "dry-run", *, inner: Notifier | None = None
    ) -> DryRunNotifier:
        """Lines written whole to ``stream`` (channels print from several threads)."""
        lock = threading.Lock()

        def write(line: str) -> None:
            with lock:
                stream.write(line + "\n")
                stream.flush()

        return cls(write, channel, inner=inner)

    @classmethod
    def to_log(cls, inner: Notifier, logger: logging.Logger) -> DryRunNotifier:
        """Each line logged at INFO (the Function's dry run)."""
        return cls(lambda line: logger.info("dry run, not posted: %s", line), inner=inner)

    def __repr__(self) -> str:
        return f"DryRunNotifier(channel={self.channel!r})"

    def render(self, alert: Alert) -> dict[str, Any]:
        if self._inner is not None:
            self._inner.render(alert)
        return {"records": [dry_run_record(alert)]}

    def render_digest(self, alerts: Sequence[Alert]) -> dict[str, Any]:
        if self._inner is not None:
            self._inner.render_digest(alerts)
        return {"records": [dry_run_record(alert) for alert in alerts]}

    def send(self, payload: dict[str, Any], *, deadline: float | None = None) -> None:
        for record in payload["records"]:
            self._write(json.dumps({"channel": self.channel, **record}, ensure_ascii=False))
