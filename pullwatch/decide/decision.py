"""Decide, per revision, whether to notify and why (like Alertmanager's dedup stage). Pure.

``decide(ledger, observations, now=..., policy=..., channels=...)`` compares this tick's
observations with what the ledger remembers and returns an ``Outcome``: the new ledger (entries
updated, notifications appended to the outbox pending on every channel, expired silences and old
resolved entries dropped) and one ``Decision`` per revision with its action and a human reason.

Rules, in the order they are applied to each revision (key ``environment/app/revision``):

1. New failure rows update the revision's entry. A failure after the entry was resolved starts a
   new incident (rows from before the resolution are ignored as stale). An ``unknown`` cause
   never replaces a specific one seen for the revision: it *borrows* the specific evidence.
2. Resolved when there is success evidence after the last failure, or no failure for
   ``quiet_period`` (``now - last failure >= quiet_period``). Only a revision that was notified
   as firing gets a "resolved" message; one that never alerted (debounced, silenced) is just
   marked resolved.
3. A transient cause (``classifiers.CATALOG``) is debounced until the revision has been failing
   for ``transient_grace`` (``last - first failure >= grace``) or ``transient_occurrences`` rows
   (cumulative). Persistent causes fire on the first tick.
4. A firing revision is notified once ("firing"); again when its cause differs from the one last
   notified ("cause-changed", "cause identified" when it was ``unknown``); again when
   ``repeat_interval`` has elapsed since the last notification ("reminder"; 0 = never).
5. A notification (of any kind, "resolved" included) whose revision and cause match an active
   silence is not queued ("silenced"); the entry records ``silenced_by``. A muted firing,
   cause change or reminder is due again once the silence ends; a muted resolution is not.
6. Routes (``pullwatch.routing``) choose the channels of each notification; the entry keeps,
   per channel, the route and what it was told. A reminder is due per channel (the route's
   repeat interval, else the global one); "resolved" goes to the channels told it was
   failing; a one-channel silence leaves that channel out ("silenced" when it was the last).
   A route's quiet hours (``mute``) hold its channels' delivery in the outbox until they end
   (the delivery's ``not_before``); a later notification for the revision replaces a held one.
7. Resolved entries are pruned when resolved longer ago than ``retention`` (strictly).

Boundaries are inclusive (``>=``) for grace, occurrences, quiet period and repeat interval; a
silence is active strictly before its expiry. Pending deliveries to channels that are not in
``channels`` any more are dropped; channels added later never receive older notifications.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from classifiers import Cause
from notifiers.alert import AlertKind
from pullwatch.decide.alerts import AlertContext, build_alert, evidence_from_observation
from pullwatch.decide.observe import RevisionObservation
from pullwatch.durations import format_duration
from pullwatch.ledger import (
    Entry,
    EntryState,
    Ledger,
    PendingNotification,
    Silence,
    active_silence,
    drop_channels_except,
    drop_expired_silences,
    enqueue,
)
from pullwatch.ledger.silences import channel_silences
from pullwatch.routing import RoutingTable, Subject, Target
from pullwatch.routing.router import Routed, Router, reminder_reason
from pullwatch.settings import Settings

if TYPE_CHECKING:
    from notifiers.alert import Alert

UNKNOWN = Cause.UNKNOWN.value
_DEFAULTS = Settings()  # parsed from SETTING_SPECS: the one place defaults are written


class Action(StrEnum):
    """What was decided for one revision this tick."""

    FIRING = "firing"
    REMINDER = "reminder"
    CAUSE_CHANGED = "cause-changed"
    RESOLVED = "resolved"
    NONE = "none"  # nothing to send (already notified, quiet, pruned, ...)
    SILENCED = "silenced"  # would notify, but an active silence matches
    DEBOUNCED = "debounced"  # transient cause below the grace thresholds


_NOTIFYING = {
    Action.FIRING: AlertKind.FIRING,
    Action.REMINDER: AlertKind.REMINDER,
    Action.CAUSE_CHANGED: AlertKind.CAUSE_CHANGED,
    Action.RESOLVED: AlertKind.RESOLVED,
}


@dataclass(frozen=True)
class Policy:
    """The timing rules (from the app settings of the same names)."""

    repeat_interval: timedelta = _DEFAULTS.repeat_interval  # 0: never remind
    transient_grace: timedelta = _DEFAULTS.transient_grace
    transient_occurrences: int = _DEFAULTS.transient_occurrences
    quiet_period: timedelta = _DEFAULTS.quiet_period
    retention: timedelta = _DEFAULTS.retention
    routes: RoutingTable = field(default_factory=RoutingTable)  # PULLWATCH_ROUTES
    reminderless: frozenset[str] = frozenset()  # channels that take no reminders (PagerDuty)

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            repeat_interval=settings.repeat_interval,
            transient_grace=settings.transient_grace,
            transient_occurrences=settings.transient_occurrences,
            quiet_period=settings.quiet_period,
            retention=settings.retention,
            routes=settings.routes,
            reminderless=frozenset(c.name for c in settings.pagerduty_channels),
        )

    def router(self, channels: Sequence[str]) -> Router:
        """The routes applied to the channels configured now."""
        return Router(self.routes, tuple(channels), self.repeat_interval, self.reminderless)


@dataclass(frozen=True)
class Decision:
    """The decision for one revision: its action, why, and the queued notification's id."""

    key: str
    action: Action
    reason: str
    notification_id: str | None = None


@dataclass(frozen=True)
class Outcome:
    ledger: Ledger
    decisions: tuple[Decision, ...]
    queued: tuple[PendingNotification, ...] = ()  # notifications appended this tick

    def decision(self, key: str) -> Decision | None:
        return next((d for d in self.decisions if d.key == key), None)


@dataclass(frozen=True)
class _Verdict:
    entry: Entry | None  # None: remove the entry (pruned)
    action: Action
    reason: str
    alert: Alert | None = None
    report: bool = True  # False: nothing happened worth a Decision
    routed: Routed | None = None  # where ``alert`` goes


def decide(
    ledger: Ledger,
    observations: Sequence[RevisionObservation],
    *,
    now: datetime,
    policy: Policy,
    channels: Sequence[str],
    context: AlertContext | None = None,
) -> Outcome:
    """Decide every revision seen this tick or remembered in the ledger (sorted by key).

    ``observations`` holds at most one observation per key (as ``observe`` returns them).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    context = context or AlertContext()
    router = policy.router(channels)
    ledger = drop_channels_except(drop_expired_silences(ledger, now), channels)
    by_key = {observation.key: observation for observation in observations}
    entries = dict(ledger.entries)
    decisions: list[Decision] = []
    queued: list[PendingNotification] = []
    for key in sorted(set(by_key) | set(entries)):
        verdict = _decide_one(
            entries.get(key), by_key.get(key), now, policy, context, ledger.silences, router
        )
        if verdict.entry is None:
            entries.pop(key, None)
        else:
            entries[key] = verdict.entry
        notification_id = None
        if verdict.alert is not None:
            routed = verdict.routed
            targets = routed.channels if routed is not None else channels
            hold = routed.held if routed is not None else None  # quiet hours: not before
            notification, ledger = enqueue(ledger, verdict.alert, targets, now=now, hold=hold)
            if notification is not None:
                queued.append(notification)
                notification_id = notification.id
        if verdict.report:
            decisions.append(Decision(key, verdict.action, verdict.reason, notification_id))
    ledger = replace(ledger, entries=entries)
    return Outcome(ledger, tuple(decisions), tuple(queued))


def _decide_one(
    entry: Entry | None,
    observation: RevisionObservation | None,
    now: datetime,
    policy: Policy,
    context: AlertContext,
    silences: tuple[Silence, ...],
    router: Router,
) -> _Verdict:
    if observation is not None and observation.failing:
        merged = _merge_failures(entry, observation, context)
        if merged is None:  # stale rows for a resolved entry
            assert entry is not None
            return _Verdict(
                entry,
                Action.NONE,
                f"failure rows up to {_t(observation.last_failure)} predate the resolution "
                f"at {_t(entry.resolved_at)} (ignored)",
            )
        entry = merged
    elif observation is not None:  # success rows only
        if entry is None:
            return _Verdict(None, Action.NONE, "success rows only; nothing to resolve")
        entry = replace(entry, last_success=_latest(entry.last_success, observation.last_success))
    if entry is None:  # pragma: no cover - every key comes from an entry or an observation
        raise AssertionError("no entry and no observation")

    if entry.state is EntryState.RESOLVED:
        assert entry.resolved_at is not None
        if now - entry.resolved_at > policy.retention:
            return _Verdict(
                None,
                Action.NONE,
                f"pruned: resolved at {_t(entry.resolved_at)}, more than "
                f"{format_duration(policy.retention)} ago",
            )
        return _Verdict(
            entry,
            Action.NONE,
            f"resolved at {_t(entry.resolved_at)}",
            report=observation is not None,
        )

    resolution = _resolution(entry, now, policy)
    if resolution is not None:
        return _resolve(entry, resolution, now, silences, router)

    if entry.state is EntryState.DEBOUNCING:
        met = _debounce_met(entry, policy)
        if met is None:
            failed_now = observation is not None and observation.failing
            return _Verdict(
                entry,
                Action.DEBOUNCED if failed_now else Action.NONE,
                _debounce_progress(entry, policy),
            )
        entry = replace(entry, state=EntryState.FIRING)
        first_reason = f"first failure ({met})"
    else:
        first_reason = "first failure"

    subject = Subject.of(build_alert(entry, AlertKind.FIRING, reason=""))
    records = router.records_of(subject, entry.channels, entry.notified_cause, entry.notified_at)
    due: tuple[tuple[Target, timedelta], ...] = ()
    if entry.notified_cause is None:
        action = Action.FIRING
        reason = first_reason
        if entry.silenced_by:
            reason = f"{first_reason}; silence {entry.silenced_by} no longer applies"
    elif entry.notified_cause != entry.evidence.cause:
        action = Action.CAUSE_CHANGED
        reason = f"cause changed {entry.notified_cause} → {entry.evidence.cause}"
        if entry.notified_cause == UNKNOWN:
            reason += " (cause identified)"
    elif due := router.reminders_due(subject, records, now):
        action = Action.REMINDER
        reason = reminder_reason(due, records)
    else:
        return _Verdict(
            replace(entry, silenced_by=None),
            Action.NONE,
            f"already notified at {_t(entry.notified_at)} with cause {entry.evidence.cause}; "
            f"last failure at {_t(entry.last_seen)}",
        )

    silence = active_silence_for(entry, now, silences)
    if silence is not None:
        return _Verdict(
            replace(entry, silenced_by=silence.id),
            Action.SILENCED,
            f"{_silence_text(silence)}; would send {action.value}: {reason}",
        )
    alert = build_alert(
        entry,
        _NOTIFYING[action],
        reason=reason,
        previous_cause=entry.notified_cause if action is Action.CAUSE_CHANGED else None,
        previous_cause_title=(
            entry.notified_cause_title if action is Action.CAUSE_CHANGED else None
        ),
    )
    routed = router.route(
        alert,
        records,
        now,
        silences=_channel_silences(entry, now, silences),
        only=[target.channel for target, _ in due] if action is Action.REMINDER else None,
    )
    if not routed.targets and routed.silenced:
        return _Verdict(
            replace(
                entry, silenced_by=next(iter(routed.silenced.values())), channels=routed.records
            ),
            Action.SILENCED,
            f"silenced on every channel it is routed to ({routed.describe()}); "
            f"would send {action.value}: {reason}",
        )
    notified = replace(
        entry,
        notified_cause=entry.evidence.cause,
        notified_cause_title=entry.evidence.cause_title,
        notified_at=now,
        silenced_by=None,
        channels=routed.records,
    )
    if not routed.targets:  # the routes drop it ("channels": [] or "default": [])
        return _Verdict(notified, Action.NONE, f"{action.value} routed to no channel: {reason}")
    return _Verdict(notified, action, reason, alert, routed=routed)


def _channel_silences(entry: Entry, now: datetime, silences: tuple[Silence, ...]) -> dict[str, str]:
    return channel_silences(
        silences, now, entry.environment, entry.app, entry.revision, entry.evidence.cause
    )


def active_silence_for(
    entry: Entry, now: datetime, silences: tuple[Silence, ...]
) -> Silence | None:
    """The active silence muting ``entry`` with its current cause, if any."""
    return active_silence(
        Ledger(silences=silences),
        now,
        entry.environment,
        entry.app,
        entry.revision,
        entry.evidence.cause,
    )


def _merge_failures(
    entry: Entry | None, observation: RevisionObservation, context: AlertContext
) -> Entry | None:
    """The entry with this tick's failures added; None when they predate a resolution."""
    evidence = evidence_from_observation(observation, context)
    first = observation.first_failure or observation.last_failure
    last = observation.last_failure or observation.first_failure
    assert first is not None and last is not None
    if entry is not None and evidence.cause == UNKNOWN and entry.evidence.cause != UNKNOWN:
        evidence = entry.evidence  # a bare "image pull failed" line borrows the specific cause
    if entry is None or entry.state is EntryState.RESOLVED:
        if entry is not None and (
            last <= entry.last_seen
            or (entry.last_success is not None and last <= entry.last_success)
        ):
            return None
        return Entry(
            environment=observation.environment,
            app=observation.app,
            revision=observation.revision,
            state=EntryState.DEBOUNCING if evidence.transient else EntryState.FIRING,
            evidence=evidence,
            count=observation.failure_count,
            first_seen=first,
            last_seen=last,
            last_success=_latest(entry.last_success if entry else None, observation.last_success),
            resource_id=observation.resource_id or (entry.resource_id if entry else ""),
        )
    state = entry.state
    if state is EntryState.DEBOUNCING and not evidence.transient:
        state = EntryState.FIRING
    return replace(
        entry,
        state=state,
        evidence=evidence,
        count=entry.count + observation.failure_count,
        first_seen=min(entry.first_seen, first),
        last_seen=max(entry.last_seen, last),
        last_success=_latest(entry.last_success, observation.last_success),
        resource_id=observation.resource_id or entry.resource_id,
    )


def _resolution(entry: Entry, now: datetime, policy: Policy) -> str | None:
    """How we know the revision recovered, or None while it may still be failing."""
    if entry.last_success is not None and entry.last_success > entry.last_seen:
        return (
            f"success evidence at {_t(entry.last_success)} after the last failure "
            f"at {_t(entry.last_seen)}"
        )
    if now - entry.last_seen >= policy.quiet_period:
        return (
            f"quiet for {format_duration(policy.quiet_period)}: no failure since "
            f"{_t(entry.last_seen)}"
        )
    return None


def _resolve(
    entry: Entry, resolution: str, now: datetime, silences: tuple[Silence, ...], router: Router
) -> _Verdict:
    resolved = replace(entry, state=EntryState.RESOLVED, resolved_at=now, resolution=resolution)
    if not entry.notified:
        if entry.state is EntryState.DEBOUNCING:
            why = f"transient {entry.evidence.cause} stopped before alerting"
        elif entry.silenced_by:
            why = f"recovered while silenced by {entry.silenced_by}, never notified"
        else:
            why = "recovered before alerting"
        return _Verdict(resolved, Action.NONE, f"{why} ({resolution})")
    silence = active_silence_for(entry, now, silences)
    if silence is not None:
        return _Verdict(
            replace(resolved, silenced_by=silence.id),
            Action.SILENCED,
            f"{_silence_text(silence)}; would send resolved: {resolution}",
        )
    alert = build_alert(resolved, AlertKind.RESOLVED, reason=resolution, resolution=resolution)
    records = router.records_of(
        Subject.of(alert), entry.channels, entry.notified_cause, entry.notified_at
    )
    routed = router.route(alert, records, now, silences=_channel_silences(entry, now, silences))
    resolved = replace(resolved, channels=routed.records)
    if not routed.targets and routed.silenced:
        return _Verdict(
            replace(resolved, silenced_by=next(iter(routed.silenced.values()))),
            Action.SILENCED,
            f"silenced on every channel it was told ({routed.describe()}); "
            f"would send resolved: {resolution}",
        )
    if not routed.targets:
        return _Verdict(resolved, Action.NONE, f"no channel was told it failed ({resolution})")
    return _Verdict(resolved, Action.RESOLVED, resolution, alert, routed=routed)


def _debounce_met(entry: Entry, policy: Policy) -> str | None:
    """Why a debounced transient entry should now fire, or None while it stays debounced."""
    cause = entry.evidence.cause
    failing_for = entry.last_seen - entry.first_seen
    if failing_for >= policy.transient_grace:
        return (
            f"transient {cause} failing for {format_duration(failing_for)}, "
            f"grace {format_duration(policy.transient_grace)}"
        )
    if entry.count >= policy.transient_occurrences:
        return (
            f"transient {cause} seen {entry.count} times, threshold {policy.transient_occurrences}"
        )
    return None


def _debounce_progress(entry: Entry, policy: Policy) -> str:
    failing_for = entry.last_seen - entry.first_seen
    return (
        f"transient {entry.evidence.cause}: failing for {format_duration(failing_for)} of "
        f"{format_duration(policy.transient_grace)}, {entry.count} of "
        f"{policy.transient_occurrences} occurrences"
    )


def _silence_text(silence: Silence) -> str:
    return f"silenced by {silence.id} until {_t(silence.expires)} ({silence.comment})"


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _t(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if value is not None else "never"
