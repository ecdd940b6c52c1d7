"""Deliver stage: post every owed notification to each channel and record the outcome. Network I/O
through the notifiers only; the ledger changes are pure.

A channel that fails keeps its notifications pending (retried next tick); after a *retryable*
failure the channel is not tried again in this tick. More than ``digest_threshold`` firing (or
resolved) notifications for one channel go out as one digest.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import datetime

from notifiers.alert import AlertKind
from notifiers.base import Notifier
from notifiers.errors import DeliveryError
from pullwatch.ledger import Ledger, PendingNotification, mark_delivered, mark_failed, pending
from pullwatch.tick.summary import TickSummary

log = logging.getLogger("pullwatch.tick")

_FIRING_KINDS = frozenset({AlertKind.FIRING, AlertKind.REMINDER, AlertKind.CAUSE_CHANGED})
Delivered = tuple[str, str, str, str]  # (alert key, kind, cause, channel)


def carry_over(ledger: Ledger, delivered: list[Delivered], now: datetime) -> Ledger:
    """Mark as delivered what this tick already posted, matched by revision, kind and cause."""
    done = set(delivered)
    for notification in pending(ledger):
        alert = notification.alert
        for channel in notification.channels:
            if (alert.key, alert.kind.value, alert.cause, channel) in done:
                ledger = mark_delivered(ledger, notification.id, channel, now=now)
    return ledger


def deliver(
    ledger: Ledger,
    notifiers: Sequence[Notifier],
    now: datetime,
    digest_threshold: int,
    summary: TickSummary,
    delivered: list[Delivered],
) -> Ledger:
    """Send every pending notification to each channel that still owes it; record the outcome."""
    for notifier in notifiers:
        owed = [n for n in pending(ledger) if notifier.channel in n.channels]
        for batch in _batches(owed, digest_threshold):
            payload = (
                notifier.render_digest([n.alert for n in batch])
                if len(batch) > 1
                else notifier.render(batch[0].alert)
            )
            try:
                notifier.send(payload)
            except DeliveryError as error:
                summary.failed += len(batch)
                log.warning(
                    "channel %s did not accept %d notification(s) (%s): %s",
                    notifier.channel,
                    len(batch),
                    "will retry next tick" if error.retryable else "permanent error; kept pending",
                    error,
                )
                for notification in batch:
                    ledger = mark_failed(
                        ledger, notification.id, notifier.channel, error=str(error)
                    )
                if error.retryable:
                    break  # the service is down or slow: leave the rest for the next tick
                continue
            summary.messages_sent += 1
            summary.digests += len(batch) > 1
            for notification in batch:
                ledger = mark_delivered(ledger, notification.id, notifier.channel, now=now)
                summary.delivered += 1
                alert = notification.alert
                delivered.append((alert.key, alert.kind.value, alert.cause, notifier.channel))
    return ledger


def _batches(
    owed: list[PendingNotification], threshold: int
) -> Iterator[list[PendingNotification]]:
    """Single messages, or one digest per group (failing / resolved) larger than ``threshold``."""
    failing = [n for n in owed if n.alert.kind in _FIRING_KINDS]
    resolved = [n for n in owed if n.alert.kind not in _FIRING_KINDS]
    for group in (failing, resolved):
        if len(group) > threshold:
            yield group
        else:
            yield from ([n] for n in group)
