"""The tick's health stage: record how pullwatch's parts fared, and queue the notices about them.

Three calls from the tick (``pullwatch.tick.pipeline``):

- ``watch`` (pure), after the plan stage, on the planned ledger: the ledger loaded (its part
  works, as far as this tick knows); each workspace answered or failed (the reading's
  ``WorkspaceOutcome``s); the log pipeline from the environments' newest rows (the ledger before
  and after the plan, ``pullwatch.health.logs``); channels no longer configured are forgotten;
  then the notices owed now (``pullwatch.health.selfalerts``) go into the outbox, to be saved
  with the intent and delivered by the same dispatch as every alert;
- ``record_channels`` (pure), in the tick's last save: each channel that accepted a message
  this tick works, each that only failed or refused has failed once more (its error class from
  the dispatch stage's report); a channel that was not tried is unchanged;
- ``note_ledger_failure`` (I/O), after a tick failed to save the ledger: one best-effort load
  and save of the health record alone, so the ledger part's failures are counted when the
  storage lets it (a conflict, a passing outage); when it does not, the error stays the tick's.

A reading from a file (``run --from-file``) tells nothing about workspaces or the log pipeline.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from pullwatch.errors import LedgerBusy, LedgerCorrupt
from pullwatch.fetch.filesource import FILE_WORKSPACE
from pullwatch.fetch.records import FetchResult
from pullwatch.health.errors import (
    NO_ROWS,
    delivery_error_class,
    ledger_error_class,
    query_error_class,
)
from pullwatch.health.logs import environments_by_workspace, silent_workspaces, table_switches
from pullwatch.health.selfalerts import HealthPolicy, Notice, due_notices, probe_alert
from pullwatch.ledger import Ledger, enqueue
from pullwatch.ledger.document import with_health
from pullwatch.ledger.health import (
    Health,
    PartKind,
    forget_parts,
    know_parts,
    mark_probed,
    observe_failure,
    observe_success,
    with_last_success,
)

if TYPE_CHECKING:
    from pullwatch.ledger.stores import LedgerStore
    from pullwatch.tick.deliver import ChannelReport

log = logging.getLogger("pullwatch.health")


@dataclass(frozen=True)
class Watched:
    """What the health stage found and queued this tick."""

    notices: tuple[Notice, ...] = ()
    warnings: tuple[str, ...] = ()  # log at WARNING (a table switch)
    problems: tuple[str, ...] = ()  # log at ERROR (a notice no channel could take)


def watch(
    ledger: Ledger,
    *,
    before: Ledger,
    result: FetchResult,
    now: datetime,
    policy: HealthPolicy,
    channels: Mapping[str, str],
) -> tuple[Ledger, Watched]:
    """The planned ``ledger`` with this tick's health observed and the notices owed queued;
    ``before``: the ledger as loaded, ``result``: this tick's reading (pure)."""
    health = observe_success(
        ledger.health, PartKind.LEDGER, "ledger", now, told_after=policy.self_alert_after
    )
    outcomes = [w for w in result.workspaces if w.workspace and w.workspace != FILE_WORKSPACE]
    for outcome in outcomes:
        if outcome.error is None:
            health = observe_success(health, PartKind.WORKSPACE, outcome.workspace, now)
        else:
            error = query_error_class(outcome.error)
            health = observe_failure(health, PartKind.WORKSPACE, outcome.workspace, error, now)
    if outcomes:
        health = forget_parts(health, PartKind.WORKSPACE, [w.workspace for w in outcomes])
    warnings: list[str] = []
    if outcomes:
        warnings = table_switches(
            before.environments, ledger.environments, fixed_table=policy.table
        )
        answered = [w.workspace for w in outcomes if w.error is None]
        health = _observe_silence(health, ledger, answered, now, policy)
    health = forget_parts(health, PartKind.CHANNEL, channels)
    health = know_parts(health, PartKind.CHANNEL, channels)
    health = with_last_success(health, now)
    known = {
        workspace: tuple(name for name, _ in logs)
        for workspace, logs in environments_by_workspace(ledger.environments).items()
    }
    health, notices, problems = due_notices(health, now, policy, channels, environments=known)
    for notice in notices:
        _, ledger = enqueue(ledger, notice.alert, notice.channels, now=now)
    health, ledger, probes = _probe(health, ledger, now, policy, channels)
    watched = Watched(tuple(notices) + probes, tuple(warnings), tuple(problems))
    return with_health(ledger, health), watched


def _observe_silence(
    health: Health, ledger: Ledger, answered: Sequence[str], now: datetime, policy: HealthPolicy
) -> Health:
    silent = silent_workspaces(ledger.environments, answered, now, policy.no_logs_after)
    watched = set(environments_by_workspace(ledger.environments)) & set(answered)
    for workspace in sorted(watched):
        if workspace in silent:
            health = observe_failure(
                health, PartKind.LOGS, workspace, NO_ROWS, now, since=silent[workspace]
            )
        else:
            health = observe_success(health, PartKind.LOGS, workspace, now)
    return health


def _probe(
    health: Health,
    ledger: Ledger,
    now: datetime,
    policy: HealthPolicy,
    channels: Mapping[str, str],
) -> tuple[Health, Ledger, tuple[Notice, ...]]:
    """Drop the probes that failed; queue one for each announced, failing channel that owes
    nothing else, at most every ``self_alert_after`` (see ``pullwatch.health.selfalerts``)."""
    probes = [n for n in ledger.outbox if n.alert.extra.get("probe")]
    failed = {
        n.id
        for n in probes
        if any(d.attempts and d.channel == n.alert.revision for d in n.deliveries)
    }
    if failed:
        ledger = replace(ledger, outbox=tuple(n for n in ledger.outbox if n.id not in failed))
    owed = {
        d.channel for n in ledger.outbox for d in n.deliveries if d.pending and n.id not in failed
    }
    queued: list[Notice] = []
    for part in health.failing():
        if part.kind is not PartKind.CHANNEL or part.announced_at is None:
            continue
        if part.name not in channels or part.name in owed:
            continue
        if part.probed_at is not None and now - part.probed_at < policy.self_alert_after:
            continue
        alert = probe_alert(part, now)
        _, ledger = enqueue(ledger, alert, (part.name,), now=now)
        health = mark_probed(health, part, now)
        queued.append(Notice(part, alert, (part.name,)))
    return health, ledger, tuple(queued)


def record_channels(
    ledger: Ledger,
    reports: Sequence[ChannelReport],
    *,
    now: datetime,
    services: Mapping[str, str],
) -> Ledger:
    """The ledger with each channel's outcome this tick in its health record (pure)."""
    health = ledger.health
    for report in reports:
        service = services.get(report.channel)
        if report.delivered:
            health = observe_success(health, PartKind.CHANNEL, report.channel, now, service=service)
        elif report.failed or report.refused:
            error = delivery_error_class(report.first_error)
            health = observe_failure(
                health, PartKind.CHANNEL, report.channel, error, now, service=service
            )
    return with_health(ledger, health)


def log_watched(watched: Watched) -> None:
    """Log what the health stage found: table switches, notices nobody could take, notices."""
    for warning in watched.warnings:
        log.warning("%s", warning)
    for problem in watched.problems:
        log.error("%s", problem)
    for notice in watched.notices:
        log.info(
            "health notice %s about %s to %s: %s",
            notice.alert.kind.value,
            notice.part.id,
            ", ".join(notice.channels),
            notice.alert.summary,
        )


def note_ledger_failure(store: LedgerStore, error: Exception, now: datetime) -> None:
    """After a tick could not save the ledger: count the failure in the ledger's health record
    with one more load and save, if the storage allows it now (never raises)."""
    if isinstance(error, LedgerCorrupt | LedgerBusy):
        return  # nothing to load, or another run holds it: the tick's error says it all
    try:
        ledger, version = store.load()
        health = observe_failure(
            ledger.health, PartKind.LEDGER, "ledger", ledger_error_class(error), now
        )
        store.save(with_health(ledger, health), version)
    except Exception as second:
        # expected when the ledger cannot be written at all; the tick's own error says why
        # (a WARNING here would be a second line under the CLI's one-line error)
        log.info(
            "could not count the ledger's failure in its health record either (%s)",
            type(second).__name__,
        )
