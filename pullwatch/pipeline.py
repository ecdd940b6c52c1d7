"""One tick: load the ledger, query, classify, decide, notify, remember.

I/O happens only through what is passed in: a ``FailureSource``, a ``LedgerStore`` and the
``Notifier``s. The clock is the ``now`` argument. Failure semantics:

- The query fails: nothing is sent, nothing is saved (the watermark stays), the error propagates.
- A partial query result: its data is used, but the watermark does not advance.
- A channel fails: the others still get their messages; the failed channel's notifications stay
  in the ledger's outbox and are retried on the next tick (no resend to channels that accepted).
  After a *retryable* failure the channel is not tried again in this tick (it is down or slow).
- The save conflicts (another writer): reload, decide again once, carry over what was already
  delivered this tick (so nothing is posted twice), deliver what is left, save; a second conflict
  raises ``LedgerConflict``.
- A crash after a send and before the save: the next tick decides the same again and sends that
  message once more (at most one duplicate); an alert is never lost, because the ledger only
  learns that an alert was sent when it is saved together with its delivery.

More than ``digest_threshold`` firing (or resolved) notifications for one channel in one tick
go out as one digest message listing them.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from notifiers.alert import AlertKind
from notifiers.base import Notifier
from notifiers.errors import DeliveryError
from pullwatch.alerts import AlertContext
from pullwatch.decide import Outcome, Policy, decide
from pullwatch.errors import LedgerConflict
from pullwatch.ledger import (
    Ledger,
    PendingNotification,
    expire_outbox,
    mark_delivered,
    mark_failed,
    pending,
    with_watermark,
)
from pullwatch.observations import FailureSource, FetchResult
from pullwatch.observe import observe
from pullwatch.stores import LedgerStore

log = logging.getLogger("pullwatch.pipeline")


@dataclass
class TickSummary:
    """What one tick did (also logged as one line)."""

    groups: int = 0
    rows_matched: int = 0
    revisions: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    messages_sent: int = 0  # HTTP posts that succeeded (a digest counts once)
    delivered: int = 0  # (notification, channel) pairs delivered
    failed: int = 0  # (notification, channel) pairs that failed this tick
    digests: int = 0
    pending_left: int = 0  # notifications still owed to some channel
    partial: bool = False
    watermark_advanced: bool = False
    watermark: datetime | None = None
    saves: int = 0
    conflicts: int = 0

    @property
    def suppressed(self) -> int:
        return self.decisions["silenced"] + self.decisions["debounced"]

    def line(self) -> str:
        kinds = ", ".join(f"{k}={n}" for k, n in sorted(self.decisions.items())) or "none"
        return (
            f"tick: {self.groups} groups ({self.rows_matched} rows) for {self.revisions} "
            f"revisions; decisions: {kinds}; sent {self.messages_sent} messages "
            f"({self.digests} digests), delivered {self.delivered}, failed {self.failed}, "
            f"suppressed {self.suppressed}, pending {self.pending_left}; watermark "
            f"{'advanced to ' + self.watermark.isoformat() if self.watermark_advanced and self.watermark else 'unchanged'}"
            f"{' (partial result)' if self.partial else ''}"
        )


_FIRING_KINDS = frozenset({AlertKind.FIRING, AlertKind.REMINDER, AlertKind.CAUSE_CHANGED})
Delivered = tuple[str, str, str, str]  # (alert key, kind, cause, channel)


def run_tick(
    *,
    source: FailureSource,
    store: LedgerStore,
    notifiers: Sequence[Notifier],
    policy: Policy,
    now: datetime,
    context: AlertContext | None = None,
    digest_threshold: int = 5,
) -> TickSummary:
    """Run one tick and return its summary. See the module docstring for failure semantics."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    summary = TickSummary()
    locked = getattr(store, "locked", None)
    with locked() if callable(locked) else contextlib.nullcontext():
        ledger, version = store.load()
        result = source.fetch(watermark=ledger.watermark, now=now)
        summary.groups = len(result.groups)
        summary.rows_matched = result.rows_matched
        summary.partial = result.partial
        observations = observe(result.groups)
        summary.revisions = len(observations)
        channels = [notifier.channel for notifier in notifiers]

        def decide_on(base: Ledger) -> Outcome:
            base, dropped = expire_outbox(base, now, policy.retention)
            for notification in dropped:
                log.error(
                    "giving up on %s notification for %s: channel(s) %s did not accept it "
                    "within %s (last error: %s)",
                    notification.alert.kind.value,
                    notification.key,
                    ", ".join(notification.channels),
                    policy.retention,
                    "; ".join(d.last_error or "none" for d in notification.deliveries if d.pending),
                )
            return decide(
                base, observations, now=now, policy=policy, channels=channels, context=context
            )

        outcome = decide_on(ledger)
        for decision in outcome.decisions:
            summary.decisions[decision.action.value] += 1
            log.info("decision %s: %s (%s)", decision.key, decision.action.value, decision.reason)
        delivered: list[Delivered] = []
        decided = _advance_watermark(outcome.ledger, result, summary)
        sent = _deliver(decided, notifiers, now, digest_threshold, summary, delivered)
        try:
            store.save(sent, version)
            summary.saves += 1
        except LedgerConflict:
            summary.conflicts += 1
            log.warning("ledger changed during the tick; reloading and deciding again once")
            fresh, version = store.load()
            again = _advance_watermark(decide_on(fresh).ledger, result, summary)
            again = _carry_over(again, delivered, now)
            again = _deliver(again, notifiers, now, digest_threshold, summary, delivered)
            store.save(again, version)  # a second conflict propagates: fail loudly
            summary.saves += 1
            sent = again
    summary.pending_left = len(pending(sent))
    log.info("%s", summary.line())
    return summary


def _advance_watermark(ledger: Ledger, result: FetchResult, summary: TickSummary) -> Ledger:
    if result.partial or result.max_ingested is None:
        summary.watermark = ledger.watermark
        return ledger
    if ledger.watermark is not None and result.max_ingested <= ledger.watermark:
        summary.watermark = ledger.watermark
        return ledger
    summary.watermark_advanced = True
    summary.watermark = result.max_ingested
    return with_watermark(ledger, result.max_ingested)


def _carry_over(ledger: Ledger, delivered: list[Delivered], now: datetime) -> Ledger:
    """Mark as delivered what this tick already posted, matched by revision, kind and cause."""
    done = set(delivered)
    for notification in pending(ledger):
        alert = notification.alert
        for channel in notification.channels:
            if (alert.key, alert.kind.value, alert.cause, channel) in done:
                ledger = mark_delivered(ledger, notification.id, channel, now=now)
    return ledger


def _deliver(
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
