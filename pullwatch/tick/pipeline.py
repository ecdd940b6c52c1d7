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
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from notifiers.base import Notifier
from pullwatch.decide import Policy
from pullwatch.decide.alerts import AlertContext
from pullwatch.decide.observe import observe
from pullwatch.errors import LedgerConflict
from pullwatch.fetch.records import FailureSource
from pullwatch.ledger import Ledger, PendingNotification, pending
from pullwatch.ledger.stores import LedgerStore
from pullwatch.tick.deliver import Delivered, carry_over, deliver
from pullwatch.tick.plan import Plan, plan
from pullwatch.tick.summary import TickSummary

__all__ = ["TickSummary", "run_tick"]

log = logging.getLogger("pullwatch.tick")


class Enricher(Protocol):
    """A stage between deciding and delivering that may add to the queued alerts (the
    configuration check, ``pullwatch.verify.stage.Verifier``); it must never raise."""

    def enrich(
        self, ledger: Ledger, queued: Sequence[PendingNotification], now: datetime
    ) -> Ledger: ...


def run_tick(
    *,
    source: FailureSource,
    store: LedgerStore,
    notifiers: Sequence[Notifier],
    policy: Policy,
    now: datetime,
    context: AlertContext | None = None,
    digest_threshold: int = 5,
    enricher: Enricher | None = None,
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

        def plan_on(base: Ledger) -> Plan:
            planned = plan(
                base,
                result,
                observations,
                now=now,
                policy=policy,
                channels=channels,
                context=context,
                summary=summary,
            )
            if enricher is None:
                return planned
            return replace(
                planned, ledger=enricher.enrich(planned.ledger, planned.outcome.queued, now)
            )

        planned = plan_on(ledger)
        for decision in planned.outcome.decisions:
            summary.decisions[decision.action.value] += 1
            log.info("decision %s: %s (%s)", decision.key, decision.action.value, decision.reason)
        delivered: list[Delivered] = []
        sent = deliver(planned.ledger, notifiers, now, digest_threshold, summary, delivered)
        try:
            store.save(sent, version)
            summary.saves += 1
        except LedgerConflict:
            summary.conflicts += 1
            log.warning("ledger changed during the tick; reloading and deciding again once")
            fresh, version = store.load()
            again = carry_over(plan_on(fresh).ledger, delivered, now)
            again = deliver(again, notifiers, now, digest_threshold, summary, delivered)
            store.save(again, version)  # a second conflict propagates: fail loudly
            summary.saves += 1
            sent = again
    summary.pending_left = len(pending(sent))
    log.info("%s", summary.line())
    return summary
