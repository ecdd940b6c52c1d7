"""The seam between the pipeline and chat services: the ``Notifier`` protocol.

A notifier renders an ``Alert`` (or a digest of many) into the payload its service expects, and
sends a payload. Rendering is pure; ``send`` is the only I/O and goes through ``Delivery``, which
owns timeouts and retries. A notifier knows nothing of dedup or the ledger.

A digest (``digest_pages``) is one or more ``DigestPage``s: a service whose messages have a size
limit splits it (``render_digest_pages``), and every page names the alerts it lists, so the
caller marks as delivered only what an accepted message showed. ``cause_groups`` orders a digest
by cause and finds the fix command the revisions of a cause share.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Protocol, runtime_checkable

from notifiers.alert import Alert, AlertKind, Link

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
        """One payload listing many revisions with their cause and count (pure). A service whose
        messages have a size limit may not list them all: send ``digest_pages`` instead."""
        ...

    def send(self, payload: dict[str, Any], *, deadline: float | None = None) -> None:
        """Deliver a rendered payload; raises ``DeliveryError`` when it was not accepted.

        ``deadline`` (``time.monotonic()`` seconds) is when the tick needs the channel back:
        no attempt or wait may run past it."""
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
    AlertKind.HEALTH_FAILING: "pullwatch needs attention",
    AlertKind.HEALTH_REMINDER: "pullwatch still needs attention",
    AlertKind.HEALTH_RECOVERED: "pullwatch is healthy again",
}


# The icon of each message kind, shared by every rendering (chat and terminal).
ICONS: dict[AlertKind, str] = {
    AlertKind.FIRING: "🔴",
    AlertKind.REMINDER: "🔁",
    AlertKind.CAUSE_CHANGED: "🔀",
    AlertKind.RESOLVED: "✅",
    AlertKind.HEALTH_FAILING: "⚠️",
    AlertKind.HEALTH_REMINDER: "⚠️",
    AlertKind.HEALTH_RECOVERED: "✅",
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


# --- digests ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestPage:
    """One message of a digest and the alerts it lists (indices into the alerts rendered).

    A digest too large for one message becomes several pages; together they list every alert
    exactly once. An alert counts as delivered only when the page that lists it was accepted."""

    payload: dict[str, Any]
    shown: tuple[int, ...]


@dataclass(frozen=True)
class CauseGroup:
    """The revisions of one cause in a digest, with the fix they share."""

    cause: str
    title: str
    resolved: bool
    members: tuple[int, ...]  # indices into the alerts, in display order
    command: str | None  # the first fix command, values that differ as <placeholders>
    shared: bool  # every member has exactly this command (nothing was replaced)
    example: str | None  # when the commands differ in shape: whose command is shown

    @property
    def size(self) -> int:
        return len(self.members)


def lead_command(alert: Alert) -> str | None:
    """The command an alert leads with: the verified fix's, else the first step's that has one."""
    if alert.fix is not None and alert.fix.command:
        return alert.fix.command
    return next((step.command for step in alert.steps if step.command), None)


def shared_command(
    commands: Sequence[str], known: Sequence[Mapping[str, str]] = ()
) -> tuple[str, bool] | None:
    """One command for all of ``commands``: the values they share kept, the others replaced by
    placeholders named after the option before them (``--repository <repository>``), or, after
    a bare ``--name`` or without an option, after what the value is in ``known`` (one mapping
    per command, e.g. ``{"app": "orders-api"}``): ``--name <app>``. ``(command, True)`` when they are all the
    same; ``None`` when they differ in shape."""
    if not commands:
        return None
    split = [command.split(" ") for command in commands]
    width = len(split[0])
    if any(len(tokens) != width for tokens in split):
        return None
    out: list[str] = []
    for position in range(width):
        values = [tokens[position] for tokens in split]
        if len(set(values)) == 1:
            out.append(values[0])
            continue
        previous = out[-1] if out else ""
        flag = previous.lstrip("-") if previous.startswith("-") else ""
        name = flag if flag and flag != "name" else _placeholder(values, known) or flag or "value"
        out.append(f"<{name}>")
    command = " ".join(out)
    return command, len(set(commands)) == 1


def _placeholder(values: Sequence[str], known: Sequence[Mapping[str, str]]) -> str | None:
    if len(known) != len(values):
        return None
    for name in known[0] if known else ():
        if all(value == names.get(name) for value, names in zip(values, known, strict=True)):
            return name
    return None


def cause_groups(alerts: Sequence[Alert]) -> list[CauseGroup]:
    """The digest's sections: one per failing cause (most revisions first), then the resolved.
    Within a section: by environment, app, revision."""
    failing: dict[str, list[int]] = {}
    resolved: list[int] = []
    for index, alert in enumerate(alerts):
        if alert.kind is AlertKind.RESOLVED:
            resolved.append(index)
        else:
            failing.setdefault(alert.cause, []).append(index)

    def where(index: int) -> tuple[str, str, str]:
        alert = alerts[index]
        return (alert.environment, alert.name, alert.revision)

    groups = []
    for cause, members in failing.items():
        members.sort(key=where)
        commands = [lead_command(alerts[i]) for i in members]
        known = [c for c in commands if c]
        names = [_names(alerts[i]) for i in members]
        merged = shared_command(known, names) if len(known) == len(commands) else None
        example = None
        if merged is None and known:
            first = next(i for i, c in zip(members, commands, strict=True) if c)
            merged, example = (known[0], False), alerts[first].name
        groups.append(
            CauseGroup(
                cause=cause,
                title=alerts[members[0]].cause_title,
                resolved=False,
                members=tuple(members),
                command=merged[0] if merged else None,
                shared=bool(merged and merged[1]),
                example=example,
            )
        )
    groups.sort(key=lambda g: (-g.size, g.title))
    if resolved:
        resolved.sort(key=where)
        groups.append(CauseGroup("resolved", "Resolved", True, tuple(resolved), None, False, None))
    return groups


def _names(alert: Alert) -> dict[str, str]:
    names = {"app": alert.app, "revision": alert.revision, "environment": alert.environment}
    if alert.job:
        names["job"] = alert.job
    if alert.image:
        names["image"] = alert.image
    return names


def digest_order(groups: Sequence[CauseGroup]) -> list[tuple[CauseGroup, int]]:
    """Every alert index with its section, in the order a digest lists them."""
    return [(group, index) for group in groups for index in group.members]


def fix_label(group: CauseGroup) -> str:
    """``Fix (all 12)`` / ``Fix (all 12; fill in the <values>)`` / ``Fix, e.g. for orders-api``."""
    if group.example is not None:
        return f"Fix, e.g. for {group.example}"
    if group.shared or group.size == 1:
        return f"Fix (all {group.size})" if group.size > 1 else "Fix"
    return f"Fix (all {group.size}; fill in the <values> for each)"


def digest_subtitle(alerts: Sequence[Alert], groups: Sequence[CauseGroup]) -> str:
    """``4 causes · cae-prod-weu, cae-stage-weu · first failure 2026-03-14 02:11 UTC``."""
    causes = sum(1 for g in groups if not g.resolved)
    environments = sorted({a.environment for a in alerts if a.environment})
    shown = ", ".join(environments[:3]) + (
        f" and {len(environments) - 3} more" if len(environments) > 3 else ""
    )
    firsts = [a.first_seen for a in alerts if a.first_seen and a.kind is not AlertKind.RESOLVED]
    parts = [f"{causes} cause{'' if causes == 1 else 's'}"] if causes else []
    if shown:
        parts.append(shown)
    if firsts:
        parts.append(f"first failure {min(firsts).astimezone(UTC):%Y-%m-%d %H:%M} UTC")
    return " · ".join(parts)


def page_note(start: int, count: int, total: int) -> str:
    """``Revisions 61–120 of 279`` for a page of a digest that did not fit one message."""
    return f"Revisions {start + 1}–{start + count} of {total}"


def more_note(rest: int) -> str:
    return f"…and {rest} more revision{'' if rest == 1 else 's'} in the next message"


def pulls(count: int) -> str:
    """``1 failed pull attempt`` / ``12 failed pull attempts`` (each log row once; back-off
    lines are no attempt)."""
    return f"{count} failed pull attempt{'' if count == 1 else 's'}"


def attempts_text(alert: Alert) -> str:
    """What an alert's count counts: failed pull attempts, or deployments Azure refused."""
    if alert.deployment is not None:
        return f"{alert.count} refused deployment{'' if alert.count == 1 else 's'}"
    return pulls(alert.count)


def digest_pages(
    notifier: Notifier,
    alerts: Sequence[Alert],
    *,
    links: Sequence[Link] = (),
    see_all: str | None = None,
) -> list[DigestPage]:
    """The messages of a digest, which together list every alert once: the notifier's own pages
    when it has a size limit (``render_digest_pages``), else one page with everything.

    ``links`` (e.g. the Log Analytics query for the whole storm) and ``see_all`` (the command
    that lists every firing revision) go into each page."""
    paged = getattr(notifier, "render_digest_pages", None)
    if callable(paged):
        pages: list[DigestPage] = paged(alerts, links=links, see_all=see_all)
        return pages
    return [DigestPage(notifier.render_digest(alerts), tuple(range(len(alerts))))]
