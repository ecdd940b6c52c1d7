"""One tick as a transaction, in five stages: plan, commit intent, dispatch, record, report.

``run_tick`` runs them with every I/O passed in (a ``FailureSource``, a ``LedgerStore``, the
``Notifier``s) and the clock as ``now``:

1. **plan** (``plan.py``): hold the ledger (file lock or blob lease, until the last save),
   load it, query, observe, decide, enqueue; then **verify** (the ``enricher``,
   ``pullwatch.verify.stage``) adds the configuration check's findings to the queued alerts,
   after every plan (the re-plan after a conflict too); then the **health** stage
   (``pullwatch.health.stage.watch``) records how pullwatch's own parts fared and queues the
   notices owed about them (self-alerts) into the same outbox;
2. **commit intent** (``record.py``): save the ledger with every owed notification in its outbox
   *before* the first post. If that save fails nothing is posted and the tick fails with the
   ledger's one-line error; on a conflict the plan stage runs again on the reloaded ledger
   (same reading) and the intent is saved once more;
3. **dispatch** (``deliver.py``): every channel at once, each in order, isolated per
   notification, bound by the tick's deadline (``budget``; the last part is kept for the save);
4. **record** (``record.py``): each delivery is saved before its channel's next post, failures
   with the next save, the rest at the end, with each channel's outcome in the health record;
5. **report** (``summary.py``): one summary line; dead letters of this tick at ERROR; and,
   whether the tick worked or failed, one ``pullwatch.tick`` record
   (``pullwatch.health.tickrecord``). A tick that failed to save the ledger counts that in the
   ledger's health record if one more small save gets through (``note_ledger_failure``).

What that guarantees: a query failure posts and saves nothing (the watermark stays); a channel
that fails keeps its notifications owed (retried next tick, never resent to channels that
accepted); a crash at any instant repeats at most the posts in flight, one per channel; an
alert is never lost, because it is saved as owed before it is posted.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

from notifiers.base import Notifier
from pullwatch.decide import Policy
from pullwatch.decide.alerts import AlertContext
from pullwatch.errors import LedgerConflict, LedgerError
from pullwatch.fetch.records import FailureSource
from pullwatch.health.selfalerts import HealthPolicy
from pullwatch.health.stage import (
    Watched,
    log_watched,
    note_ledger_failure,
    record_channels,
    watch,
)
from pullwatch.health.tickrecord import log_tick_record
from pullwatch.ledger import (
    DeliveryState,
    EntryState,
    Ledger,
    PendingNotification,
    held,
    pending,
)
from pullwatch.ledger.stores import LedgerStore, holding
from pullwatch.tick.deliver import Deadline, dispatch
from pullwatch.tick.plan import Plan, Reading, log_plan, plan, read
from pullwatch.tick.record import Journal
from pullwatch.tick.summary import TickSummary

__all__ = ["TickSummary", "run_tick"]

log = logging.getLogger("pullwatch.tick")

DEFAULT_BUDGET = timedelta(minutes=4)


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
    budget: timedelta = DEFAULT_BUDGET,
    dry_run: bool = False,
    clock: Callable[[], float] = time.monotonic,
    health: HealthPolicy | None = None,
) -> TickSummary:
    """Run one tick and return its summary. See the module docstring for the stages.

    Whatever happens, the tick ends with one ``pullwatch.tick`` record (``log_tick_record``):
    its duration, counts and, when it fails, the error's class; then the error propagates."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    started = clock()
    services = {n.channel: str(getattr(n, "service", "unknown")) for n in notifiers}
    summary = TickSummary(dry_run=dry_run, services=services)
    try:
        _run_stages(
            summary,
            source=source,
            store=store,
            notifiers=notifiers,
            policy=policy,
            now=now,
            context=context,
            digest_threshold=digest_threshold,
            enricher=enricher,
            deadline=Deadline.after(budget.total_seconds(), clock),
            dry_run=dry_run,
            health=health or HealthPolicy(repeat_interval=policy.repeat_interval),
        )
    except Exception as error:
        summary.error = type(error).__name__
        if isinstance(error, LedgerError):
            note_ledger_failure(store, error, now)
        raise
    finally:
        summary.duration = clock() - started
        log_tick_record(summary)
    return summary


def _run_stages(
    summary: TickSummary,
    *,
    source: FailureSource,
    store: LedgerStore,
    notifiers: Sequence[Notifier],
    policy: Policy,
    now: datetime,
    context: AlertContext | None,
    digest_threshold: int,
    enricher: Enricher | None,
    deadline: Deadline,
    dry_run: bool,
    health: HealthPolicy,
) -> None:
    """The stages of one tick, filling ``summary`` as they go."""
    channels = [notifier.channel for notifier in notifiers]
    watched = Watched()
    backoff_cap = policy.repeat_interval or timedelta(hours=4)
    with holding(store):
        # 1. plan
        ledger, version = store.load()
        reading = read(source, ledger, now)

        def plan_on(base: Ledger) -> Plan:
            nonlocal watched
            planned = plan(
                base, reading, now=now, policy=policy, channels=channels, context=context
            )
            if enricher is not None:
                # 1b. verify: the configuration check adds its findings to the queued alerts
                planned = replace(
                    planned, ledger=enricher.enrich(planned.ledger, planned.outcome.queued, now)
                )
            # 1c. health: how pullwatch's own parts fare, and the notices owed about them
            watched_ledger, watched = watch(
                planned.ledger,
                before=base,
                result=reading.result,
                now=now,
                policy=health,
                channels=summary.services,
            )
            return replace(planned, ledger=watched_ledger)

        planned = plan_on(ledger)
        # 2. commit intent
        journal = Journal(store, version, now=now, dry_run=dry_run, backoff_cap=backoff_cap)
        try:
            journal.commit(planned.ledger)
        except LedgerConflict:
            summary.conflicts += 1
            log.warning("ledger changed before the tick saved; reloading and deciding again once")
            ledger, version = store.load()
            planned = plan_on(ledger)
            journal = Journal(store, version, now=now, dry_run=dry_run, backoff_cap=backoff_cap)
            journal.commit(planned.ledger)  # a second conflict propagates: fail loudly
        log_plan(planned, policy.retention)
        log_watched(watched)
        summary.self_alerts = len(watched.notices)
        # 3. dispatch, 4. record
        reports = dispatch(
            journal.ledger,
            notifiers,
            journal,
            now=now,
            deadline=deadline,
            digest_threshold=digest_threshold,
            dry_run=dry_run,
            context=context,
        )
        summary.add_channels(reports)
        try:
            # the channels' outcomes go into the health record with the last save
            final = journal.finish(
                None
                if dry_run
                else partial(record_channels, reports=reports, now=now, services=summary.services)
            )
        finally:
            summary.saves = journal.saves
            summary.conflicts += journal.conflicts
    # 5. report
    report(summary, reading, planned, ledger, final, now=now, dry_run=dry_run)


def report(
    summary: TickSummary,
    reading: Reading,
    planned: Plan,
    before: Ledger,
    final: Ledger,
    *,
    now: datetime,
    dry_run: bool,
) -> None:
    """Fill the summary from the stages, log this tick's dead letters and the summary line."""
    result = reading.result
    summary.groups = len(result.groups)
    summary.rows_matched = result.rows_matched
    summary.partial = result.partial
    summary.revisions = len(reading.observations)
    summary.decisions.update(d.action.value for d in planned.outcome.decisions)
    summary.watermark_advanced = planned.watermark_advanced
    summary.watermark = max(final.watermark_map().values(), default=None)
    summary.workspaces_failed = [w.workspace for w in result.failed]
    summary.deployments = len(result.deployments)
    summary.activity_skipped = result.activity_skipped
    summary.no_logs = dict(planned.outcome.no_logs)
    summary.clock_warning = planned.clock_warning
    known = {n.id for n in before.dead_letters}
    logged = {n.id for n in planned.given_up}  # the plan stage logged these already
    for notification in final.dead_letters:
        if notification.id in known:
            continue
        summary.dead_lettered += 1
        for delivery in notification.deliveries:
            if delivery.state is DeliveryState.DEAD:
                summary.by_channel.setdefault(delivery.channel, Counter())["dead_lettered"] += 1
        if notification.id in logged:
            continue
        for delivery in notification.deliveries:
            if delivery.state is DeliveryState.DEAD:
                log.error(
                    "dead-lettered %s notification %s for %s on channel %s after %d "
                    "attempt(s): %s (see `pullwatch ledger show`)",
                    notification.alert.kind.value,
                    notification.id,
                    notification.key,
                    delivery.channel,
                    delivery.attempts,
                    delivery.last_error or "no error recorded",
                )
    summary.failing_by_cause = Counter(
        entry.evidence.cause for entry in final.entries.values() if entry.state is EntryState.FIRING
    )
    summary.pending_left = len(pending(final))
    summary.held = held(final, now, dry_run=dry_run)
    log.info("%s", summary.line())
