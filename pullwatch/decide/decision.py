"""Decide, per revision, whether to notify and why (like Alertmanager's dedup stage). Pure.

``decide(ledger, observations, now=..., policy=..., channels=...)`` compares this tick's
observations with what the ledger remembers and returns an ``Outcome``: the new ledger (entries
updated, notifications appended to the outbox pending on every channel, expired silences and old
resolved entries dropped) and one ``Decision`` per revision with its action and a human reason.

Rules, in the order they are applied to each revision (key ``environment/app/revision``):

1. New failure rows update the revision's entry, image by image (``ImageState``). Each pull
   attempt row is counted once (its id is remembered until it is older than every workspace's
   query window, ``horizon``); back-off rows keep an image failing but count no attempt. A
   failure after the entry was resolved starts a new incident (rows from before the resolution
   are ignored as stale). An ``unknown`` cause never replaces a specific one seen for the
   revision: it *borrows* the specific evidence.
2. Resolved when every image that failed has success evidence after its last failure (a success
   naming that image or its container; a sidecar's success resolves nothing else), or when no
   failure came for ``quiet_period`` (``now - last failure >= quiet_period``) *and* the
   environment's logs are known to flow past that quiet window (``Ledger.environments``: a row
   of any kind at or after ``last failure + quiet_period``). Without that evidence (an empty
   export, a daily cap, a broken diagnostic setting) the entry stays firing and the decision
   says "no logs since". Only a revision that was notified as firing gets a "resolved"
   message; one that never alerted (debounced, silenced) is just marked resolved, except a
   persistent cause first seen after it had already stopped (a gap in the ticks or in Log
   Analytics): it is notified "seen late" and resolved on the next tick.
3. A transient cause (``classifiers.CATALOG``) is debounced until the revision has been failing
   for ``transient_grace`` (``last - first failure >= grace``) or ``transient_occurrences`` pull
   attempts (cumulative, each row once). Persistent causes fire on the first tick.
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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from classifiers import Cause
from notifiers.alert import AlertKind, Deployment
from pullwatch.decide.alerts import AlertContext, build_alert, evidence_from_observation
from pullwatch.decide.observe import UNNAMED, ImageObservation, RevisionObservation, with_image
from pullwatch.durations import format_duration
from pullwatch.ledger import (
    Entry,
    EntryState,
    Evidence,
    ImageState,
    Ledger,
    PendingNotification,
    Silence,
    active_silence,
    drop_channels_except,
    drop_expired_silences,
    enqueue,
)
from pullwatch.ledger.routed import ChannelRecord
from pullwatch.ledger.silences import channel_silences
from pullwatch.routing import RoutingTable, Subject, Target
from pullwatch.routing.router import Routed, Router, reminder_reason
from pullwatch.settings import Settings

if TYPE_CHECKING:
    from notifiers.alert import Alert

UNKNOWN = Cause.UNKNOWN.value
MAX_COUNTED_ROWS = 2000  # counted row ids kept per entry (the newest), whatever the horizon
MAX_EXECUTIONS = 5  # failed executions of a job an entry names
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
    # environments whose revisions stayed firing because no log showed they are flowing,
    # with the newest row seen of each (None: never)
    no_logs: Mapping[str, datetime | None] = field(default_factory=dict)

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
    no_logs: bool = False  # quiet, but kept firing: no evidence the environment logs flow


def decide(
    ledger: Ledger,
    observations: Sequence[RevisionObservation],
    *,
    now: datetime,
    policy: Policy,
    channels: Sequence[str],
    context: AlertContext | None = None,
    horizon: datetime | None = None,
    deployed: Mapping[str, datetime] | None = None,
) -> Outcome:
    """Decide every revision seen this tick or remembered in the ledger (sorted by key).

    ``observations`` holds at most one observation per key (as ``observe`` returns them);
    ``horizon``: rows older than this are never read again (``FetchResult.horizon``), so their
    ids need not be remembered. ``deployed``: each resource id's newest successful write (the
    Activity Log), which resolves a refused deployment of it.
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
    no_logs: dict[str, datetime | None] = {}
    later = _Later(dict(deployed or {}), _pulled(observations))
    for key in sorted(set(by_key) | set(entries)):
        verdict = _decide_one(
            entries.get(key), by_key.get(key), now, policy, context, ledger, router, later
        )
        if verdict.entry is None:
            entries.pop(key, None)
        else:
            entries[key] = _forget_rows(verdict.entry, horizon)
        if verdict.no_logs and verdict.entry is not None:
            known = ledger.environments.get(verdict.entry.environment)
            no_logs[verdict.entry.environment] = known.last_row if known else None
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
    return Outcome(ledger, tuple(decisions), tuple(queued), no_logs)


def _decide_one(
    entry: Entry | None,
    observation: RevisionObservation | None,
    now: datetime,
    policy: Policy,
    context: AlertContext,
    ledger: Ledger,
    router: Router,
    later: _Later,
) -> _Verdict:
    silences = ledger.silences
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
    elif observation is not None:  # success (or pulling) rows only
        if entry is None:
            return _Verdict(None, Action.NONE, "success rows only; nothing to resolve")
        entry = _merge_successes(entry, observation)
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

    resolution, quiet = _resolution(entry, now, policy, ledger, later)
    if resolution is not None:
        return _resolve(entry, resolution, now, silences, router, seen_late=quiet)
    no_logs = (
        quiet is None and entry.deployment is None and now - entry.last_seen >= policy.quiet_period
    )

    if entry.state is EntryState.DEBOUNCING:
        met = _debounce_met(entry, policy)
        if met is None:
            failed_now = observation is not None and observation.failing
            return _Verdict(
                entry,
                Action.DEBOUNCED if failed_now else Action.NONE,
                _debounce_progress(entry, policy),
                no_logs=no_logs,
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
        why = (
            f"already notified at {_t(entry.notified_at)} with cause {entry.evidence.cause}; "
            f"last failure at {_t(entry.last_seen)}"
        )
        if no_logs:
            why += f"; {_no_logs_text(entry, ledger, policy)}"
        return _Verdict(replace(entry, silenced_by=None), Action.NONE, why, no_logs=no_logs)

    if action is Action.REMINDER and no_logs:
        reason += f"; {_no_logs_text(entry, ledger, policy)}"
    verdict = _notify(entry, action, reason, now, silences, router, records, due)
    return replace(verdict, no_logs=no_logs)


def _notify(
    entry: Entry,
    action: Action,
    reason: str,
    now: datetime,
    silences: tuple[Silence, ...],
    router: Router,
    records: tuple[ChannelRecord, ...],
    due: tuple[tuple[Target, timedelta], ...] = (),
) -> _Verdict:
    """Queue ``action`` for ``entry`` on its routed channels, unless a silence mutes it."""
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


def _seen_late(
    entry: Entry, now: datetime, silences: tuple[Silence, ...], router: Router
) -> _Verdict:
    """A persistent failure first seen after it stopped (a gap): notify it now, resolve later."""
    reason = (
        f"seen late: failed from {_t(entry.first_seen)} to {_t(entry.last_seen)}, no failures since"
    )
    firing = replace(entry, state=EntryState.FIRING)
    subject = Subject.of(build_alert(firing, AlertKind.FIRING, reason=""))
    records = router.records_of(subject, firing.channels, None, None)
    return _notify(firing, Action.FIRING, reason, now, silences, router, records)


def _silenced_names(entry: Entry) -> tuple[str, str, str, str, str]:
    """What silences match ``entry`` on: environment, app, revision, cause, job."""
    return entry.environment, entry.app, entry.revision, entry.evidence.cause, entry.job


def _channel_silences(entry: Entry, now: datetime, silences: tuple[Silence, ...]) -> dict[str, str]:
    return channel_silences(silences, now, *_silenced_names(entry))


def active_silence_for(
    entry: Entry, now: datetime, silences: tuple[Silence, ...]
) -> Silence | None:
    """The active silence muting ``entry`` with its current cause, if any."""
    return active_silence(Ledger(silences=silences), now, *_silenced_names(entry))


def _merge_failures(
    entry: Entry | None, observation: RevisionObservation, context: AlertContext
) -> Entry | None:
    """The entry with this tick's failures (and successes) added, each attempt row once; None
    when every failure predates the entry's resolution (rows re-read by the overlap)."""
    if entry is not None and entry.state is not EntryState.RESOLVED:
        observation = _with_known_image(observation, entry)
    evidence = evidence_from_observation(observation, context)
    if entry is not None and evidence.cause == UNKNOWN and entry.evidence.cause != UNKNOWN:
        evidence = entry.evidence  # a bare "image pull failed" line borrows the specific cause
    if entry is None or entry.state is EntryState.RESOLVED:
        return _new_incident(entry, observation, evidence)
    images, added, counted = _merge_images(entry.images, entry.rows, observation)
    state = entry.state
    if state is EntryState.DEBOUNCING and not evidence.transient:
        state = EntryState.FIRING
    first = observation.first_failure or entry.first_seen
    last = observation.last_failure or entry.last_seen
    return replace(
        entry,
        state=state,
        evidence=evidence,
        count=entry.count + added,
        first_seen=min(entry.first_seen, first),
        last_seen=max(entry.last_seen, last),
        last_success=_latest(entry.last_success, observation.last_success),
        resource_id=observation.resource_id or entry.resource_id,
        images=images,
        rows=counted,
        job=entry.job or observation.job,
        executions=_executions(entry.executions, observation.executions),
        deployment=deployment_of(observation) or entry.deployment,
    )


def _new_incident(
    resolved: Entry | None, observation: RevisionObservation, evidence: Evidence
) -> Entry | None:
    """A new entry from ``observation``; after a resolution only failures newer than what
    resolved it count (None when there are none)."""
    stale_before = None
    if resolved is not None:
        stale_before = max(resolved.last_seen, resolved.last_success or resolved.last_seen)
    fresh = [
        image
        for image in observation.failed_images
        if stale_before is None or (image.last_failure and image.last_failure > stale_before)
    ]
    if not fresh:
        return None
    known = dict(resolved.rows) if resolved is not None else {}
    images, added, counted = _merge_images((), known, observation, since=stale_before)
    first = min(
        (max(i.first_failure, stale_before) if stale_before else i.first_failure)
        for i in fresh
        if i.first_failure
    )
    last = max(i.last_failure for i in fresh if i.last_failure)
    return Entry(
        environment=observation.environment,
        app=observation.app,
        revision=observation.revision,
        state=EntryState.DEBOUNCING if evidence.transient else EntryState.FIRING,
        evidence=evidence,
        count=added,
        first_seen=first,
        last_seen=last,
        last_success=_latest(resolved.last_success if resolved else None, observation.last_success),
        resource_id=observation.resource_id or (resolved.resource_id if resolved else ""),
        job=observation.job,
        executions=_executions((), observation.executions),
        images=images,
        rows=counted,
        deployment=deployment_of(observation),
        subject=observation.key if observation.deployment is not None else "",
    )


def _merge_images(
    known: tuple[ImageState, ...],
    rows: Mapping[str, datetime],
    observation: RevisionObservation,
    *,
    since: datetime | None = None,
) -> tuple[tuple[ImageState, ...], int, dict[str, datetime]]:
    """The images with this tick's rows merged in, the new pull attempts, and the counted rows.

    An image-less failure joins the revision's one failing named image; a named failure takes
    over the image-less one when no other image is named (those rows were its rows)."""
    images = {image.image: image for image in known}
    counted = dict(rows)
    added = 0
    for seen in observation.images:
        name = _image_name(seen, images)
        state = images.get(name) or ImageState(image=name)
        if seen.image and name == seen.image and UNNAMED in images and _only_unnamed(images):
            state = replace(images.pop(UNNAMED), image=name)
        new = [
            a for a in seen.attempts if a.id not in counted and (since is None or a.time > since)
        ]
        for attempt in new:
            counted[attempt.id] = attempt.time
        pulls = sum(a.pulls for a in new)
        added += pulls
        failed = seen.failed and (since is None or (seen.last_failure or since) > since)
        cause = state.cause
        if failed and seen.diagnosis is not None:
            found = seen.diagnosis.cause.value
            cause = found if found != UNKNOWN or not cause else cause
        first_failure = seen.first_failure
        if failed and since is not None and first_failure is not None:
            first_failure = max(first_failure, since)
        images[name] = replace(
            state,
            container=state.container or seen.container,
            cause=cause,
            first_failure=_earliest(state.first_failure, first_failure if failed else None),
            last_failure=_latest(state.last_failure, seen.last_failure if failed else None),
            attempts=state.attempts + pulls,
            first_success=_earliest(state.first_success, seen.first_success),
            last_success=_latest(state.last_success, seen.last_success),
        )
    if observation.unnamed_success is not None and UNNAMED in images:
        unnamed = images[UNNAMED]
        images[UNNAMED] = replace(
            unnamed, last_success=_latest(unnamed.last_success, observation.unnamed_success)
        )
    return tuple(images[name] for name in sorted(images)), added, counted


def _with_known_image(observation: RevisionObservation, entry: Entry) -> RevisionObservation:
    """``observation`` with its image-less failure given the one image the entry knows is
    failing (a later tick may read only ``Container pull image failed ...`` lines, its
    ``Pulling image`` line having left the window): the alert keeps naming the image."""
    failing = [image.image for image in entry.images if image.image and image.failing]
    if len(failing) != 1:
        return observation
    images = tuple(
        replace(
            seen,
            image=failing[0],
            diagnosis=with_image(seen.diagnosis, failing[0]) if seen.diagnosis else None,
        )
        if seen.image == UNNAMED and seen.failed
        else seen
        for seen in observation.images
    )
    return replace(observation, images=images)


def _image_name(seen: ImageObservation, images: Mapping[str, ImageState]) -> str:
    """Which remembered image ``seen`` is: itself, or for an image-less failure the one named
    image still failing (or the one whose container it names)."""
    if seen.image:
        return seen.image
    if seen.container:
        for image in images.values():
            if image.image and image.container == seen.container:
                return image.image
    failing = [i.image for i in images.values() if i.image and i.failing]
    return failing[0] if len(failing) == 1 else UNNAMED


def _only_unnamed(images: Mapping[str, ImageState]) -> bool:
    """True when the image-less failure is the only failure remembered."""
    return not any(i.image and i.failed for i in images.values())


def _merge_successes(entry: Entry, observation: RevisionObservation) -> Entry:
    """The entry with a tick's success (and pulling) rows: each image's recovery evidence."""
    images, _, counted = _merge_images(entry.images, entry.rows, observation)
    return replace(
        entry,
        last_success=_latest(entry.last_success, observation.last_success),
        images=images,
        rows=counted,
    )


def deployment_of(observation: RevisionObservation) -> Deployment | None:
    """What the alert says of a refused deployment: who, when, which correlation."""
    failure = observation.deployment
    if failure is None:
        return None
    return Deployment(
        resource_id=failure.resource_id,
        caller=failure.caller,
        at=failure.time,
        correlation_id=failure.correlation_id,
        operation=failure.operation,
        error_code=failure.error_code,
    )


def _executions(known: tuple[str, ...], seen: tuple[str, ...]) -> tuple[str, ...]:
    """A job's failed executions, oldest first, the newest ``MAX_EXECUTIONS`` of them."""
    merged = list(known) + [name for name in seen if name not in known]
    return tuple(merged[-MAX_EXECUTIONS:])


def _forget_rows(entry: Entry, horizon: datetime | None) -> Entry:
    """Forget counted rows no query will read again, and keep at most ``MAX_COUNTED_ROWS``."""
    rows = entry.rows
    if horizon is not None:
        rows = {row: when for row, when in rows.items() if when > horizon}
    if len(rows) > MAX_COUNTED_ROWS:
        newest = sorted(rows.items(), key=lambda item: (item[1], item[0]))[-MAX_COUNTED_ROWS:]
        rows = dict(newest)
    return entry if rows == entry.rows else replace(entry, rows=rows)


@dataclass(frozen=True)
class _Later:
    """What resolves a refused deployment: a later successful write of the resource, or the
    app (or job) pulling that image afterwards (its system logs, any environment)."""

    deployed: Mapping[str, datetime]  # resource id (lower case) -> newest successful write
    pulled: Mapping[tuple[str, str], datetime]  # (app or job name, image) -> newest success


def _pulled(observations: Sequence[RevisionObservation]) -> dict[tuple[str, str], datetime]:
    pulled: dict[tuple[str, str], datetime] = {}
    for observation in observations:
        if observation.deployment is not None:
            continue
        name = observation.app or observation.job
        for image in observation.images:
            if image.image and image.last_success is not None:
                key = (name, image.image)
                pulled[key] = max(image.last_success, pulled.get(key, image.last_success))
    return pulled


def _deployment_resolution(entry: Entry, later: _Later) -> str | None:
    """How a refused deployment was fixed, or None: it stays failing until Azure accepts a
    write of the app (or the app pulls the image); no revision exists to go quiet."""
    assert entry.deployment is not None
    name = entry.app or entry.job
    written = later.deployed.get(entry.deployment.resource_id.lower())
    if written is not None and written > entry.last_seen:
        return f"a later deployment of {name} succeeded at {_t(written)}"
    image = entry.evidence.image or ""
    pulled = later.pulled.get((name, image)) if image else None
    if pulled is not None and pulled > entry.last_seen:
        return f"{name} pulled {image} at {_t(pulled)}"
    return None


def _resolution(
    entry: Entry, now: datetime, policy: Policy, ledger: Ledger, later: _Later
) -> tuple[str | None, bool | None]:
    """How we know the revision recovered (or None while it may still be failing), and whether
    that is by quiet (True), by success evidence (False) or unknown for lack of logs (None)."""
    if entry.deployment is not None:
        return _deployment_resolution(entry, later), False
    recovered = _recovered_by_success(entry)
    if recovered is not None:
        return recovered, False
    if now - entry.last_seen < policy.quiet_period:
        return None, False
    flowing = ledger.environments.get(entry.environment)
    if flowing is None or flowing.last_row < entry.last_seen + policy.quiet_period:
        return None, None
    return (
        f"quiet for {format_duration(policy.quiet_period)}: no failure since "
        f"{_t(entry.last_seen)} while {entry.environment} kept logging "
        f"(until {_t(flowing.last_row)})"
    ), True


def _recovered_by_success(entry: Entry) -> str | None:
    """The success evidence that every failed image recovered, or None."""
    failed = [image for image in entry.images if image.failed]
    if not failed:  # an entry from before images were tracked
        if entry.last_success is not None and entry.last_success > entry.last_seen:
            return (
                f"success evidence at {_t(entry.last_success)} after the last failure "
                f"at {_t(entry.last_seen)}"
            )
        return None
    recoveries = []
    for image in failed:
        at = _recovery(image, entry.images)
        if at is None:
            return None
        recoveries.append((at, image))
    at, image = max(recoveries, key=lambda item: item[0])
    what = f"image {image.image}" if image.image else "the image"
    return (
        f"success evidence at {_t(at)} after the last failure at {_t(entry.last_seen)} "
        f"({what} pulled or its container started)"
        if len(failed) == 1
        else f"success evidence for each of {len(failed)} failing images, the last at {_t(at)}"
    )


def _recovery(image: ImageState, images: tuple[ImageState, ...]) -> datetime | None:
    """When ``image`` recovered: a success of its own after its last failure. The image-less
    one also recovers when another image succeeds for the first time after that failure (the
    image that was failing, now named); a sidecar that was already running does not count."""
    assert image.last_failure is not None
    if image.last_success is not None and image.last_success > image.last_failure:
        return image.last_success
    if image.image:
        return None
    for other in images:
        if (
            other.image
            and not other.failed
            and other.first_success is not None
            and other.first_success > image.last_failure
        ):
            return other.first_success
    return None


def _no_logs_text(entry: Entry, ledger: Ledger, policy: Policy) -> str:
    known = ledger.environments.get(entry.environment)
    since = f"since {_t(known.last_row)}" if known else "seen yet"
    return (
        f"quiet for {format_duration(policy.quiet_period)}, but no system logs of "
        f"{entry.environment} {since}: kept firing until logs show it recovered"
    )


def _resolve(
    entry: Entry,
    resolution: str,
    now: datetime,
    silences: tuple[Silence, ...],
    router: Router,
    *,
    seen_late: bool | None = False,
) -> _Verdict:
    resolved = replace(entry, state=EntryState.RESOLVED, resolved_at=now, resolution=resolution)
    if not entry.notified:
        if entry.state is EntryState.DEBOUNCING:
            why = f"transient {entry.evidence.cause} stopped before alerting"
        elif entry.silenced_by:
            why = f"recovered while silenced by {entry.silenced_by}, never notified"
        elif seen_late:
            return _seen_late(entry, now, silences, router)
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
            f"transient {cause}: {entry.count} failed pull attempts, threshold "
            f"{policy.transient_occurrences}"
        )
    return None


def _debounce_progress(entry: Entry, policy: Policy) -> str:
    failing_for = entry.last_seen - entry.first_seen
    return (
        f"transient {entry.evidence.cause}: failing for {format_duration(failing_for)} of "
        f"{format_duration(policy.transient_grace)}, {entry.count} of "
        f"{policy.transient_occurrences} pull attempts"
    )


def _silence_text(silence: Silence) -> str:
    return f"silenced by {silence.id} until {_t(silence.expires)} ({silence.comment})"


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _t(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if value is not None else "never"
