"""Self-alerts: when pullwatch says that part of it is failing, reminds, or says it works again.
Pure: the health record and the clock in, notices out.

``due_notices`` looks at every part of the health record (``pullwatch.ledger.health``) and
returns the notices owed now, each an ``Alert`` of a health kind for the same outbox and
delivery as every alert:

- **failing** (``health-failing``): the part has failed for ``PULLWATCH_SELF_ALERT_AFTER``
  (15 minutes) or longer and nothing was said about this run of failures yet, e.g. "pullwatch
  cannot deliver to channel teams-2 for 2 h: HTTP 404 — the workflow was probably deleted",
  with the fix as steps;
- **reminder** (``health-reminder``): still failing a repeat interval after the last one;
- **healthy again** (``health-recovered``): a part that was announced works again.

Who is told: every configured channel that works (its own part is not failing), except
PagerDuty (it pages people about their apps; pullwatch's own outage pages through the Azure
dead-man rule's action group) and except the failing channel itself: a dead channel is
reported through the others, never to itself. When no channel can be told, nothing is marked
as said, and the caller logs it.

Never a storm: at most one failing-or-reminder notice per part per repeat interval (a part that
flaps, failing again soon after it recovered, is not announced again before the interval has
passed since the last announcement), and one "healthy again" per announcement.

A failing channel that was announced also gets **probes** (``probe_alert``, queued by the
health stage): when nothing else is owed to it, one notice to that channel itself, "pullwatch
can post to this channel again", at most every ``PULLWATCH_SELF_ALERT_AFTER``; it is only ever
seen when it is true, and its delivery is how pullwatch learns that a channel with nothing to
send works again. A probe that failed is dropped (never retried, never dead-lettered).

The ledger is a part too, but a tick that cannot save the ledger cannot post (every
notification is saved before it is posted), so there is no "cannot" about it: when it works
again after failing for the self-alert time or longer, one notice says it was down, how long,
and why (the Azure dead-man rule covers the time it is down).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from notifiers.alert import Alert, AlertKind, Step
from pullwatch.health.fixes import Context, advice
from pullwatch.ledger.health import (
    Health,
    PartHealth,
    PartKind,
    mark_announced,
    mark_recovery_told,
)
from pullwatch.settings import Settings, TableMode

PULLWATCH = "pullwatch"  # the alert's ``environment`` for notices about pullwatch itself
NO_REMINDER_WINDOW = timedelta(hours=4)  # the storm guard's window when reminders are off
_DEFAULTS = Settings()
_NEVER_TOLD = frozenset({"pagerduty"})  # services that get no notices about pullwatch


@dataclass(frozen=True)
class HealthPolicy:
    """When to speak about pullwatch's own health, and what the settings tell for the fixes."""

    self_alert_after: timedelta = _DEFAULTS.self_alert_after
    no_logs_after: timedelta = _DEFAULTS.no_logs_after
    repeat_interval: timedelta = _DEFAULTS.repeat_interval  # 0: no reminders
    client_id: str | None = None
    workspace_resource_id: str | None = None
    resource_group: str | None = None
    ledger: str = "the ledger"
    table: str | None = None  # PULLWATCH_TABLE when it names one table (not auto)

    @classmethod
    def from_settings(cls, settings: Settings, *, ledger: str = "the ledger") -> HealthPolicy:
        return cls(
            self_alert_after=settings.self_alert_after,
            no_logs_after=settings.no_logs_after,
            repeat_interval=settings.repeat_interval,
            client_id=settings.azure_client_id,
            workspace_resource_id=settings.workspace_resource_id,
            resource_group=settings.resource_group,
            ledger=ledger,
            table=None if settings.table is TableMode.AUTO else settings.table.value,
        )

    @property
    def window(self) -> timedelta:
        """At most one failing-or-reminder notice per part in this long."""
        return self.repeat_interval or NO_REMINDER_WINDOW


@dataclass(frozen=True)
class Notice:
    """A notice owed now: what it says and which channels get it."""

    part: PartHealth
    alert: Alert
    channels: tuple[str, ...]

    @property
    def probe(self) -> bool:
        return self.part.kind is PartKind.CHANNEL and self.channels == (self.part.name,)


def due_notices(
    health: Health,
    now: datetime,
    policy: HealthPolicy,
    channels: Mapping[str, str],
    *,
    environments: Mapping[str, tuple[str, ...]] | None = None,
) -> tuple[Health, list[Notice], list[str]]:
    """The notices owed now (see the module docstring), the record with them marked as said,
    and the problems to log (a notice nobody could be told). ``channels``: every configured
    channel and its service; ``environments``: the Container Apps environments known to log to
    each workspace (for the log pipeline's fix)."""
    failing = {p.name for p in health.parts.values() if p.kind is PartKind.CHANNEL and p.failing}
    working = [
        name
        for name, service in channels.items()
        if service not in _NEVER_TOLD and name not in failing
    ]
    notices: list[Notice] = []
    problems: list[str] = []
    for key in sorted(health.parts):
        part = health.parts[key]
        audience = tuple(c for c in working if not _is_itself(part, c))
        if part.recovered_at is not None and not part.failing:
            if audience:
                alert = notice_alert(part, AlertKind.HEALTH_RECOVERED, now, policy)
                notices.append(Notice(part, alert, audience))
            health = mark_recovery_told(health, part)
            continue
        kind = _announcement(part, now, policy)
        if kind is None:
            continue
        names = (environments or {}).get(part.name, ()) if part.kind is PartKind.LOGS else ()
        alert = notice_alert(part, kind, now, policy, environments=names)
        if not audience:
            problems.append(f"no working channel to tell: {alert.summary}")
            continue
        notices.append(Notice(part, alert, audience))
        health = mark_announced(health, part, now)
    return health, notices, problems


def _is_itself(part: PartHealth, channel: str) -> bool:
    return part.kind is PartKind.CHANNEL and part.name == channel


def _announcement(part: PartHealth, now: datetime, policy: HealthPolicy) -> AlertKind | None:
    """FAILING, REMINDER or None for a part now (see the module docstring)."""
    if not part.failing or part.since is None or part.kind is PartKind.LEDGER:
        return None
    if part.announced_at is None:
        if now - part.since < _threshold(part, policy):
            return None
        if part.last_announced is not None and now - part.last_announced < policy.window:
            return None  # it flaps: announced not long ago
        return AlertKind.HEALTH_FAILING
    if policy.repeat_interval and now - part.announced_at >= policy.repeat_interval:
        return AlertKind.HEALTH_REMINDER
    return None


def _threshold(part: PartHealth, policy: HealthPolicy) -> timedelta:
    # the log pipeline's run of failures begins at its last row, and is only a failure once
    # PULLWATCH_NO_LOGS_AFTER has passed: announce it at once
    return timedelta(0) if part.kind is PartKind.LOGS else policy.self_alert_after


# --- the words ---------------------------------------------------------------------------------


def subject(part: PartHealth) -> str:
    """``channel teams-2``, ``workspace <id>``, ``its ledger``, ``system logs in workspace <id>``."""
    return {
        PartKind.CHANNEL: f"channel {part.name}",
        PartKind.WORKSPACE: f"workspace {part.name}",
        PartKind.LEDGER: "its ledger",
        PartKind.LOGS: f"Container Apps system logs in workspace {part.name}",
    }[part.kind]


def failing_title(part: PartHealth) -> str:
    return {
        PartKind.CHANNEL: f"pullwatch cannot deliver to channel {part.name}",
        PartKind.WORKSPACE: f"pullwatch cannot read workspace {part.name}",
        PartKind.LEDGER: "pullwatch cannot save its ledger",
        PartKind.LOGS: f"No Container Apps system logs in workspace {part.name}",
    }[part.kind]


def span(delta: timedelta) -> str:
    """``20 min``, ``2 h``, ``3 days``: how long, as a person says it."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    return f"{hours // 24} days"


def when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "unknown"


def context_for(
    part: PartHealth, policy: HealthPolicy, environments: tuple[str, ...] = ()
) -> Context:
    return Context(
        name=part.name,
        service=part.service,
        client_id=policy.client_id,
        workspace_resource_id=policy.workspace_resource_id,
        resource_group=policy.resource_group,
        environments=environments,
        ledger=policy.ledger,
    )


def notice_alert(
    part: PartHealth,
    kind: AlertKind,
    now: datetime,
    policy: HealthPolicy,
    *,
    environments: tuple[str, ...] = (),
) -> Alert:
    """The notice about ``part`` as an ``Alert`` every notifier renders (a health kind)."""
    error = part.last_error or "error"
    lasted = span(now - part.since) if part.since else "a while"
    steps: tuple[Step, ...] = ()
    if kind is AlertKind.HEALTH_RECOVERED:
        title, summary = _recovered_words(part, lasted, error)
        facts = [("Part", subject(part)), ("Failed from", when(part.since)), ("Last error", error)]
        reason = "recovered"
    else:
        found = advice(part.kind, error, context_for(part, policy, environments))
        title = failing_title(part)
        if part.kind is PartKind.LOGS:
            summary = (
                f"no Container Apps system logs in workspace {part.name} since "
                f"{when(part.since)} ({lasted}) — {found.meaning}"
            )
        else:
            summary = f"{title} for {lasted}: {error} — {found.meaning}"
        facts = [
            ("Part", subject(part)),
            ("Failing since", when(part.since)),
            ("Failed ticks", str(part.failures)),
            ("Last error", error),
        ]
        steps = found.steps
        reason = f"failing for {lasted}"
        if kind is AlertKind.HEALTH_REMINDER:
            title, reason = f"Still: {title[0].lower()}{title[1:]}", "reminder"
    if part.service:
        facts.insert(1, ("Service", part.service))
    return Alert(
        kind=kind,
        environment=PULLWATCH,
        app=part.kind.value,
        revision=part.name,
        cause=f"{part.kind.value}-{_slug(error)}",
        cause_title=title,
        summary=summary,
        facts=tuple(facts),
        steps=steps,
        count=part.failures,
        first_seen=part.since,
        last_seen=part.last_failure,
        reason=reason,
        extra={"part": part.id, "error": error},
    )


def _recovered_words(part: PartHealth, lasted: str, error: str) -> tuple[str, str]:
    where = subject(part)
    if part.kind is PartKind.LEDGER:
        return (
            "pullwatch can save its ledger again",
            f"pullwatch could not save its ledger for {lasted} from {when(part.since)} "
            f"({error}); it works again. Alerts of that time went out late, none was lost.",
        )
    if part.kind is PartKind.CHANNEL:
        return (
            f"pullwatch is healthy again: channel {part.name} works",
            f"channel {part.name} accepts messages again; it failed for {lasted} from "
            f"{when(part.since)} ({error}). Messages it could not take meanwhile are in "
            "`python -m pullwatch ledger show` (dead letters).",
        )
    if part.kind is PartKind.LOGS:
        return (
            f"Container Apps system logs arrive again in workspace {part.name}",
            f"system logs arrive again in workspace {part.name}; none arrived for {lasted} "
            f"from {when(part.since)}.",
        )
    return (
        f"pullwatch is healthy again: {where} works",
        f"{where} works again; it failed for {lasted} from {when(part.since)} ({error}).",
    )


def probe_alert(part: PartHealth, now: datetime) -> Alert:
    """The notice a failing channel gets itself: true whenever it is seen."""
    error = part.last_error or "error"
    return Alert(
        kind=AlertKind.HEALTH_RECOVERED,
        environment=PULLWATCH,
        app=part.kind.value,
        revision=part.name,
        cause=f"{part.kind.value}-{_slug(error)}",
        cause_title="pullwatch can post to this channel again",
        summary=(
            f"pullwatch could not post to this channel ({part.name}) from {when(part.since)} "
            f"({error}); it can now. Alerts meant for it meanwhile are listed by "
            "`python -m pullwatch ledger show` (dead letters)."
        ),
        facts=(("Channel", part.name), ("Failed from", when(part.since)), ("Last error", error)),
        count=part.failures,
        first_seen=part.since,
        last_seen=part.last_failure,
        reason="probe",
        extra={"part": part.id, "error": error, "probe": "true"},
    )


def _slug(error: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in error.lower()).strip("-") or "error"
