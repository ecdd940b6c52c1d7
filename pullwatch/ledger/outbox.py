"""The outbox: notifications decided but not yet accepted by every channel they are owed to. Pure.

Each ``PendingNotification`` keeps one ``ChannelDelivery`` per channel, so an outage of one chat
service loses nothing and resends nothing elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from notifiers.alert import Alert
from pullwatch.ledger.fields import iso, opt_str, opt_time, parse_time, utc

if TYPE_CHECKING:
    from pullwatch.ledger.document import Ledger


@dataclass(frozen=True)
class ChannelDelivery:
    """One channel's state for one notification."""

    channel: str
    delivered_at: datetime | None = None  # None: still pending
    attempts: int = 0  # failed attempts so far
    last_error: str | None = None  # safe-to-print message of the last failure

    @property
    def pending(self) -> bool:
        return self.delivered_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "delivered_at": iso(self.delivered_at),
            "attempts": self.attempts,
            "last_error": self.last_error,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChannelDelivery:
        return cls(
            channel=str(data["channel"]),
            delivered_at=opt_time(data.get("delivered_at")),
            attempts=int(data.get("attempts", 0)),
            last_error=opt_str(data.get("last_error")),
        )


@dataclass(frozen=True)
class PendingNotification:
    """An alert queued for delivery, kept until every channel it was queued for accepted it."""

    id: str
    alert: Alert
    created: datetime
    deliveries: tuple[ChannelDelivery, ...]

    @property
    def key(self) -> str:
        return self.alert.key

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels that still have to accept this alert."""
        return tuple(d.channel for d in self.deliveries if d.pending)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created": iso(self.created),
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
        )


def enqueue(
    ledger: Ledger, alert: Alert, channels: Sequence[str], *, now: datetime
) -> tuple[PendingNotification | None, Ledger]:
    """Append ``alert`` to the outbox, pending on every channel (None when there is none)."""
    unique = tuple(dict.fromkeys(channels))
    if not unique:
        return None, ledger
    notification_id, ledger = ledger.next_id("n")
    notification = PendingNotification(
        id=notification_id,
        alert=alert,
        created=utc(now),
        deliveries=tuple(ChannelDelivery(channel) for channel in unique),
    )
    return notification, replace(ledger, outbox=(*ledger.outbox, notification))


def pending(ledger: Ledger) -> list[PendingNotification]:
    """Notifications still owed to some channel, oldest first (deliver in this order)."""
    return [n for n in ledger.outbox if n.channels]


def mark_delivered(ledger: Ledger, notification_id: str, channel: str, *, now: datetime) -> Ledger:
    """Record that ``channel`` accepted the notification; drop it once every channel has.

    Unknown ids or channels are ignored (the notification may have been dropped already).
    """
    return _update_delivery(
        ledger,
        notification_id,
        channel,
        lambda d: replace(d, delivered_at=utc(now), last_error=None),
    )


def mark_failed(ledger: Ledger, notification_id: str, channel: str, *, error: str) -> Ledger:
    """Record a failed attempt (kept pending, retried next tick). ``error`` must be safe to print."""
    return _update_delivery(
        ledger,
        notification_id,
        channel,
        lambda d: replace(d, attempts=d.attempts + 1, last_error=error[:300]),
    )


def expire_outbox(
    ledger: Ledger, now: datetime, max_age: timedelta
) -> tuple[Ledger, list[PendingNotification]]:
    """Drop notifications queued more than ``max_age`` ago that some channel never accepted
    (an archived Slack channel, a deleted workflow): the ledger must not grow without bound.
    Returns the new ledger and what was dropped (for the caller to log loudly)."""
    keep: list[PendingNotification] = []
    dropped: list[PendingNotification] = []
    for notification in ledger.outbox:
        (dropped if now - notification.created > max_age else keep).append(notification)
    if not dropped:
        return ledger, []
    return replace(ledger, outbox=tuple(keep)), dropped


def drop_channels_except(ledger: Ledger, channels: Sequence[str]) -> Ledger:
    """Forget pending deliveries to channels no longer configured (they would wait forever)."""
    keep = set(channels)
    outbox = []
    for notification in ledger.outbox:
        deliveries = tuple(d for d in notification.deliveries if d.channel in keep)
        if any(d.pending for d in deliveries):
            outbox.append(replace(notification, deliveries=deliveries))
    return replace(ledger, outbox=tuple(outbox))


def _update_delivery(ledger: Ledger, notification_id: str, channel: str, change: Any) -> Ledger:
    outbox = []
    for notification in ledger.outbox:
        if notification.id == notification_id:
            deliveries = tuple(
                change(d) if d.channel == channel and d.pending else d
                for d in notification.deliveries
            )
            notification = replace(notification, deliveries=deliveries)
            if not notification.channels:
                continue
        outbox.append(notification)
    return replace(ledger, outbox=tuple(outbox))
