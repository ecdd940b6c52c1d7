"""The seam between the pipeline and chat services: the ``Notifier`` protocol.

A notifier renders an ``Alert`` (or a digest of many) into the payload its service expects, and
sends a payload. Rendering is pure; ``send`` is the only I/O and goes through ``Delivery``, which
owns timeouts and retries. A notifier knows nothing of dedup or the ledger.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from notifiers.alert import Alert, AlertKind

_CHANNEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
CHANNEL_NAME_RULE = "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"


@runtime_checkable
class Notifier(Protocol):
    """One chat channel (one webhook URL) of one service."""

    service: str  # "teams" | "slack" | "webhook"
    channel: str  # stable id such as "teams-1"; never contains the URL

    def render(self, alert: Alert) -> dict[str, Any]:
        """The payload for one alert (pure: same alert, same payload)."""
        ...

    def render_digest(self, alerts: Sequence[Alert]) -> dict[str, Any]:
        """One payload listing many revisions with their cause and count (pure)."""
        ...

    def send(self, payload: dict[str, Any]) -> None:
        """Deliver a rendered payload; raises ``DeliveryError`` when it was not accepted."""
        ...


def check_channel(channel: str) -> str:
    """Return ``channel`` if it is a short id (``teams-1``); a URL or anything else is refused."""
    if not _CHANNEL_ID.fullmatch(channel):
        raise ValueError(
            "channel must be a short id of letters, digits, '.', '_' or '-' (such as 'teams-1')"
        )
    return channel


# One wording for every service: the headline of each message kind (services add their own icon).
HEADLINES: dict[AlertKind, str] = {
    AlertKind.FIRING: "Image pull failing",
    AlertKind.REMINDER: "Still failing",
    AlertKind.CAUSE_CHANGED: "Cause changed",
    AlertKind.RESOLVED: "Resolved",
}


# The icon of each message kind, shared by every rendering (chat and terminal).
ICONS: dict[AlertKind, str] = {
    AlertKind.FIRING: "🔴",
    AlertKind.REMINDER: "🔁",
    AlertKind.CAUSE_CHANGED: "🔀",
    AlertKind.RESOLVED: "✅",
}


def digest_headline(alerts: Sequence[Alert]) -> str:
    """``7 revisions cannot pull their images`` (resolved ones are counted apart)."""
    failing = sum(1 for a in alerts if a.kind is not AlertKind.RESOLVED)
    resolved = len(alerts) - failing
    parts = []
    if failing:
        parts.append(
            f"{failing} revision{'s' if failing != 1 else ''} cannot pull "
            f"{'their images' if failing != 1 else 'its image'}"
        )
    if resolved:
        parts.append(f"{resolved} resolved")
    return ", ".join(parts) or "No revisions"


def check_lines(alert: Alert) -> list[str]:
    """What the configuration check said, as raw (unescaped) lines: ``Checked 09:02 UTC: ...``
    for the leading finding, ``Also: ...`` for the others, or why it could not check."""
    when = alert.checked_at.strftime("%H:%M UTC") if alert.checked_at else "now"
    if alert.findings:
        lead, *others = alert.findings
        return [f"Checked {when}: {lead.text}", *(f"Also: {f.text}" for f in others)]
    if alert.check_error:
        return [f"Checked {when}: {alert.check_error}"]
    return []


FIX_HEADING = "Fix (from the configuration check)"
OTHER_STEPS_HEADING = "If that is not it"


def pulls(count: int) -> str:
    """``1 failed pull`` / ``12 failed pulls``."""
    return f"{count} failed pull{'' if count == 1 else 's'}"
