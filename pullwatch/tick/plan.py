"""Plan stage: read this tick's rows, then decide on the loaded ledger and enqueue what is owed.

``read`` is the stage's only I/O (the log source); ``plan`` is pure: it checks the clock
against the ledger's last tick (a clock that runs backwards or jumps more than a day is logged
as a WARNING and never ages the outbox by more than a day), ages and expires the outbox,
records each environment's newest log row (the evidence that its logs flow), decides every
revision (``pullwatch.decide``), enqueues notifications and advances each workspace's
ingestion watermark when that workspace's answer was whole (a workspace that failed keeps its
watermark and is read again, overlap included, next tick). On a save conflict the pipeline runs
``plan`` again on the reloaded ledger with the same reading.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pullwatch.decide import Outcome, Policy, decide
from pullwatch.decide.alerts import AlertContext
from pullwatch.decide.observe import RevisionObservation, observe_reading
from pullwatch.fetch.records import ANY_WORKSPACE, FailureSource, FetchResult
from pullwatch.ledger import (
    DeliveryState,
    Ledger,
    PendingNotification,
    age_outbox,
    expire_outbox,
    with_environment_logs,
    with_last_tick,
    with_workspace_watermark,
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
    """Query the source from each workspace's watermark and observe each revision."""
    result = source.fetch(watermarks=ledger.watermark_map(), now=now)
    return Reading(result, tuple(observe_reading(result)))


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
    base = record_activity(base, reading.result)
    outcome = decide(
        base,
        reading.observations,
        now=now,
        policy=policy,
        channels=channels,
        context=context,
        horizon=reading.result.horizon,
        deployed=reading.result.deployed,
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


def record_activity(ledger: Ledger, result: FetchResult) -> Ledger:
    """The ledger knowing each environment's newest log row of this reading."""
    for seen in result.activity:
        if seen.environment:
            ledger = with_environment_logs(
                ledger, seen.environment, seen.last_seen, seen.table, seen.workspace
            )
    return ledger


def advance_watermark(ledger: Ledger, result: FetchResult) -> tuple[Ledger, bool]:
    """Each workspace that answered whole moves its watermark to its newest ingestion time."""
    advanced = False
    marks = ledger.watermark_map()
    for outcome in result.workspaces:
        if outcome.partial or not outcome.answered or outcome.max_ingested is None:
            continue
        known = marks.get(outcome.workspace, marks.get(ANY_WORKSPACE))
        if known is not None and outcome.max_ingested <= known:
            continue
        ledger = with_workspace_watermark(ledger, outcome.workspace, outcome.max_ingested)
        advanced = True
    return ledger, advanced


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
