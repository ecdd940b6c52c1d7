"""The outbox: notifications decided but not yet accepted by every channel they are owed to. Pure.

Each ``PendingNotification`` carries its own channels, one ``ChannelDelivery`` per channel, so an
outage of one chat service loses nothing and resends nothing elsewhere. A delivery is in one
``DeliveryState``:

- ``pending``: owed; due when ``not_before`` is unset or reached (a permanent refusal backs off
  with it; a mute window may hold a notification with it too);
- ``delivered``: the channel accepted it;
- ``dry-run``: printed instead of posted (``PULLWATCH_DRY_RUN``); still owed for real, so turning
  dry run off later posts what is owed;
- ``superseded``: a later notification for the same revision tells the truth instead (a
  "resolved" after an undelivered "firing", a newer firing): a channel that was down gets only
  the latest state, never a stale message last;
- ``dead-lettered``: refused too often (a 4xx such as 400, 404, 410, 413) or not accepted within
  the retention period; kept in the ledger's ``dead_letters`` for a while, shown by
  ``ledger show``.

Notifications are delivered per channel in the order they were created (outbox order). A
notification leaves the outbox once nothing is owed on any channel; if some delivery was
dead-lettered it moves to ``dead_letters``. Ages are counted in ``waited``: the time the
notification spent in the outbox, adding each tick's clock step (never negative, at most a
day), so a clock that jumps forward does not expire anything early.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from notifiers.alert import Alert
from pullwatch.durations import format_duration
from pullwatch.ledger.fields import iso, opt_str, opt_time, parse_time, utc

if TYPE_CHECKING:
    from pullwatch.ledger.document import Ledger

MAX_ERROR_TEXT = 300
PERMANENT_BACKOFF = timedelta(minutes=5)  # first wait after a permanent refusal; doubles each time
DEAD_LETTER_AFTER = 4  # permanent refusals of one notification on one channel before dead-letter
MAX_DEAD_LETTERS = 100


class DeliveryState(StrEnum):
    """Where one channel stands for one notification."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DRY_RUN = "dry-run"
    SUPERSEDED = "superseded"
    DEAD = "dead-lettered"


@dataclass(frozen=True)
class ChannelDelivery:
    """One channel's state for one notification."""

    channel: str
    state: DeliveryState = DeliveryState.PENDING
    done_at: datetime | None = None  # when it left ``pending`` (delivered, printed, superseded...)
    attempts: int = 0  # failed attempts so far (any failure)
    refusals: int = 0  # permanent refusals so far (4xx other than 408/429, rendering errors)
    last_error: str | None = None  # safe-to-print message of the last failure
    not_before: datetime | None = None  # not tried before this time
    superseded_by: str | None = None  # id of the notification that replaced this one here

    @property
    def pending(self) -> bool:
        """Still owed for real (a dry-run delivery is still owed once dry run is off)."""
        return self.state in (DeliveryState.PENDING, DeliveryState.DRY_RUN)

    def owed(self, *, dry_run: bool) -> bool:
        """Owed in this mode: a dry run owes only what it has not printed yet."""
        return self.state is DeliveryState.PENDING or (
            not dry_run and self.state is DeliveryState.DRY_RUN
        )

    def due(self, now: datetime, *, dry_run: bool) -> bool:
        return self.owed(dry_run=dry_run) and (self.not_before is None or now >= self.not_before)

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "state": self.state.value,
            "done_at": iso(self.done_at),
            "attempts": self.attempts,
            "refusals": self.refusals,
            "last_error": self.last_error,
            "not_before": iso(self.not_before),
            "superseded_by": self.superseded_by,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChannelDelivery:
        done_at = opt_time(data.get("done_at", data.get("delivered_at")))
        state = data.get("state")
        if state is None:  # written before delivery states existed
            state = DeliveryState.DELIVERED if done_at is not None else DeliveryState.PENDING
        return cls(
            channel=str(data["channel"]),
            state=DeliveryState(state),
            done_at=done_at,
            attempts=int(data.get("attempts", 0)),
            refusals=int(data.get("refusals", 0)),
            last_error=opt_str(data.get("last_error")),
            not_before=opt_time(data.get("not_before")),
            superseded_by=opt_str(data.get("superseded_by")),
        )


@dataclass(frozen=True)
class PendingNotification:
    """An alert queued for delivery, kept until every channel it was queued for is done."""

    id: str
    alert: Alert
    created: datetime
    deliveries: tuple[ChannelDelivery, ...]
    waited: timedelta = timedelta(0)  # time spent in the outbox (sane clock steps only)

    @property
    def key(self) -> str:
        return self.alert.key

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels that still have to accept this alert."""
        return tuple(d.channel for d in self.deliveries if d.pending)

    def delivery(self, channel: str) -> ChannelDelivery | None:
        return next((d for d in self.deliveries if d.channel == channel), None)

    @property
    def dead(self) -> bool:
        return any(d.state is DeliveryState.DEAD for d in self.deliveries)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created": iso(self.created),
            "waited_seconds": round(self.waited.total_seconds(), 3),
            "deliveries": [d.to_dict() for d in self.deliveries],
            "alert": self.alert.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PendingNotification:
        return cls(
            id=str(data["id"]),
            created=parse_time(data["created"]),
            deliveries=tuple(ChannelDelivery.from_dict(d) for d in data["deliveries"]),
            alert=Alert.from_dict(dict(data["alert"])),
            waited=timedelta(seconds=float(data.get("waited_seconds", 0))),
        )


def enqueue(
    ledger: Ledger,
    alert: Alert,
    channels: Sequence[str],
    *,
    now: datetime,
    hold: Mapping[str, datetime] | None = None,
) -> tuple[PendingNotification | None, Ledger]:
    """Append ``alert`` to the outbox, pending on every channel (None when there is none);
    ``hold`` delays some channels (channel → not before, e.g. the end of quiet hours).

    Earlier notifications for the same revision still owed on one of these channels are
    superseded there: the new one tells the truth, the old one would be stale.
    """
    unique = tuple(dict.fromkeys(channels))
    if not unique:
        return None, ledger
    notification_id, ledger = ledger.next_id("n")
    notification = PendingNotification(
        id=notification_id,
        alert=alert,
        created=utc(now),
        deliveries=tuple(
            ChannelDelivery(channel, not_before=utc(hold[channel]) if channel in hold else None)
            if hold
            else ChannelDelivery(channel)
            for channel in unique
        ),
    )
    key = alert.key
    if not any(old.alert.revision == alert.revision and old.key == key for old in ledger.outbox):
        return notification, replace(ledger, outbox=(*ledger.outbox, notification))
    targets = set(unique)

    def supersede(old: PendingNotification) -> PendingNotification:
        if old.key != key:
            return old
        deliveries = tuple(
            replace(
                d,
                state=DeliveryState.SUPERSEDED,
                done_at=utc(now),
                superseded_by=notification_id,
            )
            if d.pending and d.channel in targets
            else d
            for d in old.deliveries
        )
        return replace(old, deliveries=deliveries)

    outbox = tuple(supersede(old) for old in ledger.outbox)
    return notification, _settle(replace(ledger, outbox=(*outbox, notification)))


def pending(ledger: Ledger) -> list[PendingNotification]:
    """Notifications still owed to some channel, oldest first (deliver in this order)."""
    return [n for n in ledger.outbox if n.channels]


def due(
    ledger: Ledger, channel: str, now: datetime, *, dry_run: bool = False
) -> list[PendingNotification]:
    """What ``channel`` should be sent now, in the order the notifications were created."""
    result = []
    for notification in ledger.outbox:
        delivery = notification.delivery(channel)
        if delivery is not None and delivery.due(now, dry_run=dry_run):
            result.append(notification)
    return result


def held(ledger: Ledger, now: datetime, *, dry_run: bool = False) -> int:
    """(notification, channel) pairs owed but not due yet (backing off, or held)."""
    return sum(
        1
        for n in ledger.outbox
        for d in n.deliveries
        if d.owed(dry_run=dry_run) and not d.due(now, dry_run=dry_run)
    )


def mark_delivered(
    ledger: Ledger,
    notification_id: str | Collection[str],
    channel: str,
    *,
    now: datetime,
    dry_run: bool = False,
) -> Ledger:
    """Record that ``channel`` accepted (or, in a dry run, printed) the notification(s): one id,
    or the ids of a digest.

    Unknown ids or channels are ignored (the notification may have been dropped already).
    """
    state = DeliveryState.DRY_RUN if dry_run else DeliveryState.DELIVERED

    def change(d: ChannelDelivery) -> ChannelDelivery:
        if not d.owed(dry_run=dry_run):
            return d
        return replace(d, state=state, done_at=utc(now), last_error=None, not_before=None)

    return _update_delivery(ledger, notification_id, channel, change)


def mark_failed(
    ledger: Ledger,
    notification_id: str | Collection[str],
    channel: str,
    *,
    error: str,
    now: datetime | None = None,
    permanent: bool = False,
    backoff_cap: timedelta = timedelta(hours=4),
) -> Ledger:
    """Record a failed attempt of one notification, or of a digest's. ``error`` must be safe
    to print.

    A retryable failure keeps the delivery pending for the next tick. A permanent one (a refusal
    that will not change by itself) backs off: not tried again before ``now`` plus 5 minutes,
    doubling with each refusal up to ``backoff_cap``; the ``DEAD_LETTER_AFTER``-th refusal
    dead-letters it.
    """
    text = error[:MAX_ERROR_TEXT]

    def change(d: ChannelDelivery) -> ChannelDelivery:
        if not d.pending:
            return d
        failed = replace(d, attempts=d.attempts + 1, last_error=text)
        if not permanent:
            return failed
        refusals = d.refusals + 1
        if refusals >= DEAD_LETTER_AFTER:
            return replace(
                failed,
                refusals=refusals,
                state=DeliveryState.DEAD,
                done_at=utc(now) if now else None,
                not_before=None,
            )
        wait = min(PERMANENT_BACKOFF * 2 ** (refusals - 1), max(backoff_cap, PERMANENT_BACKOFF))
        return replace(
            failed, refusals=refusals, not_before=utc(now) + wait if now is not None else None
        )

    return _update_delivery(ledger, notification_id, channel, change)


def age_outbox(ledger: Ledger, step: timedelta) -> Ledger:
    """Add one tick's clock step (already made sane: >= 0, capped) to every waiting age."""
    if step <= timedelta(0) or not (ledger.outbox or ledger.dead_letters):
        return ledger
    return replace(
        ledger,
        outbox=tuple(replace(n, waited=n.waited + step) for n in ledger.outbox),
        dead_letters=tuple(replace(n, waited=n.waited + step) for n in ledger.dead_letters),
    )


def expire_outbox(
    ledger: Ledger, now: datetime, max_age: timedelta
) -> tuple[Ledger, list[PendingNotification]]:
    """Dead-letter notifications that waited longer than ``max_age`` and are still owed (an
    archived Slack channel, a deleted workflow, a service down for a week): the ledger must not
    grow without bound. Those only ever printed in a dry run are dropped instead; dead letters
    older than ``max_age`` (counted from when they died) too. Returns the new ledger and what was
    given up, as it was (for the caller to log loudly)."""
    given_up: list[PendingNotification] = []
    outbox: list[PendingNotification] = []
    for n in ledger.outbox:
        if n.waited <= max_age or not n.channels:
            outbox.append(n)
            continue
        given_up.append(n)  # as it was, so the caller can tell what was still owed
        if all(d.state is DeliveryState.DRY_RUN for d in n.deliveries if d.pending):
            continue  # only ever printed in a dry run: nothing was refused, just drop it
        reason = f"not accepted within {format_duration(max_age)}"
        deliveries = tuple(
            replace(
                d,
                state=DeliveryState.DEAD,
                done_at=utc(now),
                last_error=f"{reason}; last error: {d.last_error or 'none'}"[:MAX_ERROR_TEXT],
            )
            if d.pending
            else d
            for d in n.deliveries
        )
        outbox.append(replace(n, deliveries=deliveries))
    kept_dead = tuple(n for n in ledger.dead_letters if n.waited <= max_age)
    if not given_up and len(kept_dead) == len(ledger.dead_letters):
        return ledger, []
    return _settle(replace(ledger, outbox=tuple(outbox), dead_letters=kept_dead)), given_up


def drop_channels_except(ledger: Ledger, channels: Sequence[str]) -> Ledger:
    """Forget pending deliveries to channels no longer configured (they would wait forever)."""
    keep = set(channels)
    outbox = []
    for notification in ledger.outbox:
        deliveries = tuple(d for d in notification.deliveries if d.channel in keep)
        if any(d.pending for d in deliveries):
            outbox.append(replace(notification, deliveries=deliveries))
    return replace(ledger, outbox=tuple(outbox))


def dead_letter_ids(ledger: Ledger) -> set[str]:
    return {n.id for n in ledger.dead_letters}


def _update_delivery(
    ledger: Ledger,
    notification_id: str | Collection[str],
    channel: str,
    change: Callable[[ChannelDelivery], ChannelDelivery],
) -> Ledger:
    ids = {notification_id} if isinstance(notification_id, str) else set(notification_id)
    outbox = []
    found = False
    for notification in ledger.outbox:
        if notification.id in ids:
            found = True
            notification = replace(
                notification,
                deliveries=tuple(
                    change(d) if d.channel == channel else d for d in notification.deliveries
                ),
            )
        outbox.append(notification)
    if not found:
        return ledger
    return _settle(replace(ledger, outbox=tuple(outbox)))


def _settle(ledger: Ledger) -> Ledger:
    """Move notifications with nothing owed out of the outbox (to dead letters if any died)."""
    if all(n.channels for n in ledger.outbox):
        return ledger
    keep: list[PendingNotification] = []
    dead: list[PendingNotification] = []
    for notification in ledger.outbox:
        if notification.channels:
            keep.append(notification)
        elif notification.dead:
            dead.append(replace(notification, waited=timedelta(0)))
    letters = _newest(ledger.dead_letters, dead)
    return replace(ledger, outbox=tuple(keep), dead_letters=letters)


def _newest(
    old: Iterable[PendingNotification], new: Iterable[PendingNotification]
) -> tuple[PendingNotification, ...]:
    letters = (*old, *new)
    return letters[-MAX_DEAD_LETTERS:]
