"""Plan stage: read this tick's rows, then decide on the loaded ledger and enqueue what is owed.

``read`` is the stage's only I/O (the log source); ``plan`` is pure: it checks the clock
against the ledger's last tick (a clock that runs backwards or jumps more than a day is logged
as a WARNING and never ages the outbox by more than a day), ages and expires the outbox,
decides every revision (``pullwatch.decide``), enqueues notifications and advances the
ingestion watermark when the reading was whole. On a save conflict the pipeline runs ``plan``
again on the reloaded ledger with the same reading.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pullwatch.decide import Outcome, Policy, decide
from pullwatch.decide.alerts import AlertContext
from pullwatch.decide.observe import RevisionObservation, observe
from pullwatch.fetch.records import FailureSource, FetchResult
from pullwatch.ledger import (
    DeliveryState,
    Ledger,
    PendingNotification,
    age_outbox,
    expire_outbox,
    with_last_tick,
    with_watermark,
)

log = logging.getLogger("pullwatch.tick")

MAX_CLOCK_STEP = timedelta(days=1)  # a longer step between two ticks is suspicious


@dataclass(frozen=True)
class Reading:
    """What the log source returned this tick, reduced to one observation per revision."""

    result: FetchResult
    observations: tuple[RevisionObservation, ...]


@dataclass(frozen=True)
class Plan:
    """The decided ledger (notifications enqueued, watermark advanced) and how it came about."""

    ledger: Ledger
    outcome: Outcome
    watermark_advanced: bool
    clock_warning: str | None = None
    given_up: tuple[PendingNotification, ...] = ()


def read(source: FailureSource, ledger: Ledger, now: datetime) -> Reading:
    """Query the source from the ledger's watermark and observe each revision."""
    result = source.fetch(watermark=ledger.watermark, now=now)
    return Reading(result, tuple(observe(result.groups)))


def plan(
    ledger: Ledger,
    reading: Reading,
    *,
    now: datetime,
    policy: Policy,
    channels: Sequence[str],
    context: AlertContext | None,
) -> Plan:
    """Decide on ``ledger`` with this tick's reading; see the module docstring."""
    step, warning = clock_step(ledger.last_tick, now)
    base = age_outbox(ledger, step)
    base, given_up = expire_outbox(base, now, policy.retention)
    outcome = decide(
        base, reading.observations, now=now, policy=policy, channels=channels, context=context
    )
    decided, advanced = advance_watermark(outcome.ledger, reading.result)
    return Plan(with_last_tick(decided, now), outcome, advanced, warning, tuple(given_up))


def clock_step(last_tick: datetime | None, now: datetime) -> tuple[timedelta, str | None]:
    """How much this tick ages the outbox, and a warning when the clock looks wrong."""
    if last_tick is None:
        return timedelta(0), None
    step = now - last_tick
    if step < timedelta(0):
        return timedelta(0), (
            f"the clock ({now.isoformat()}) is earlier than the ledger's last tick "
            f"({last_tick.isoformat()}): nothing is aged or expired by this tick"
        )
    if step > MAX_CLOCK_STEP:
        return MAX_CLOCK_STEP, (
            f"the clock ({now.isoformat()}) is {step} after the ledger's last tick "
            f"({last_tick.isoformat()}): the outbox is aged by one day only"
        )
    return step, None


def advance_watermark(ledger: Ledger, result: FetchResult) -> tuple[Ledger, bool]:
    if result.partial or result.max_ingested is None:
        return ledger, False
    if ledger.watermark is not None and result.max_ingested <= ledger.watermark:
        return ledger, False
    return with_watermark(ledger, result.max_ingested), True


def log_plan(planned: Plan, retention: timedelta) -> None:
    """Log what the plan stage decided: clock trouble, notifications given up, each decision."""
    if planned.clock_warning:
        log.warning("clock: %s", planned.clock_warning)
    for notification in planned.given_up:
        owed = [d for d in notification.deliveries if d.pending]
        if all(d.state is DeliveryState.DRY_RUN for d in owed):
            log.info(
                "dropping %s notification %s for %s: only printed in a dry run, never posted, "
                "for longer than %s",
                notification.alert.kind.value,
                notification.id,
                notification.key,
                retention,
            )
            continue
        log.error(
            "giving up on %s notification %s for %s: channel(s) %s did not accept it "
            "within %s (last error: %s); kept in the dead letters",
            notification.alert.kind.value,
            notification.id,
            notification.key,
            ", ".join(d.channel for d in owed),
            retention,
            "; ".join(d.last_error or "none" for d in owed),
        )
    for decision in planned.outcome.decisions:
        log.info("decision %s: %s (%s)", decision.key, decision.action.value, decision.reason)
