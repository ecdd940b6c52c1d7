"""The tick's health stage: record how pullwatch's parts fared, and queue the notices about them.

Three calls from the tick (``pullwatch.tick.pipeline``):

- ``watch`` (pure), after the plan stage, on the planned ledger: the ledger loaded (its part
  works, as far as this tick knows), each workspace's query answered or failed
  (``SourceHealth``), the log pipeline's rows per table (``pullwatch.health.logs``), channels no
  longer configured are forgotten; then the notices owed now (``pullwatch.health.selfalerts``)
  go into the outbox, to be saved with the intent and delivered by the same dispatch as every
  alert;
- ``record_channels`` (pure), in the tick's last save: each channel that accepted a message
  this tick works, each that only failed or refused has failed once more (its error class from
  the dispatch stage's report); a channel that was not tried is unchanged;
- ``note_ledger_failure`` (I/O), after a tick failed to save the ledger: one best-effort load
  and save of the health record alone, so the ledger part's failures are counted when the
  storage lets it (a conflict, a passing outage); when it does not, the error stays the tick's.

The log source tells workspace outcomes and row counts through two optional attributes of its
``FetchResult`` (``workspace_errors``: workspace id -> error text or None; ``table_rows``:
``TableRows``), read by ``source_health``; a result without them (a file export, a query that
does not count rows) leaves those parts as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from pullwatch.errors import LedgerBusy, LedgerCorrupt
from pullwatch.health.errors import (
    NO_ROWS,
    delivery_error_class,
    ledger_error_class,
    query_error_class,
)
from pullwatch.health.logs import TableRows, observe_tables, silent_workspaces
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
    from pullwatch.fetch.records import FetchResult
    from pullwatch.ledger.stores import LedgerStore
    from pullwatch.tick.deliver import ChannelReport

log = logging.getLogger("pullwatch.health")

WORKSPACE_ERRORS = "workspace_errors"  # FetchResult attribute: workspace id -> error or None
TABLE_ROWS = "table_rows"  # FetchResult attribute: the system-log rows per table and environment


@dataclass(frozen=True)
class SourceHealth:
    """What the log source tells about its own parts this tick."""

    workspaces: Mapping[str, str | None]  # workspace id -> error text, None when it answered
    table_rows: Sequence[TableRows] | None = None  # None: the source does not count rows


def source_health(result: FetchResult) -> SourceHealth:
    """The workspace outcomes and row counts a ``FetchResult`` carries, if it carries them."""
    workspaces = getattr(result, WORKSPACE_ERRORS, None) or {}
    rows = getattr(result, TABLE_ROWS, None)
    return SourceHealth(dict(workspaces), tuple(rows) if rows is not None else None)


@dataclass(frozen=True)
class Watched:
    """What the health stage found and queued this tick."""

    notices: tuple[Notice, ...] = ()
    warnings: tuple[str, ...] = ()  # log at WARNING (a table switch)
    problems: tuple[str, ...] = ()  # log at ERROR (a notice no channel could take)
    workspaces_failed: tuple[str, ...] = ()


def watch(
    ledger: Ledger,
    *,
    now: datetime,
    policy: HealthPolicy,
    channels: Mapping[str, str],
    source: SourceHealth,
) -> tuple[Ledger, Watched]:
    """The ledger with this tick's health observed and the notices owed queued (pure)."""
    health = observe_success(
        ledger.health, PartKind.LEDGER, "ledger", now, told_after=policy.self_alert_after
    )
    failed: list[str] = []
    for workspace, error in sorted(source.workspaces.items()):
        if error is None:
            health = observe_success(health, PartKind.WORKSPACE, workspace, now)
        else:
            health = observe_failure(
                health, PartKind.WORKSPACE, workspace, query_error_class(error), now
            )
            failed.append(workspace)
    if source.workspaces:
        health = forget_parts(health, PartKind.WORKSPACE, source.workspaces)
    warnings: list[str] = []
    if source.table_rows is not None:
        health, warnings = observe_tables(health, source.table_rows, now, fixed_table=policy.table)
        health = _observe_silence(health, now, policy)
    health = know_parts(
        forget_parts(health, PartKind.CHANNEL, channels), PartKind.CHANNEL, channels
    )
    health = with_last_success(health, now)
    health, notices, problems = due_notices(health, now, policy, channels)
    for notice in notices:
        _, ledger = enqueue(ledger, notice.alert, notice.channels, now=now)
    health, ledger, probes = _probe(health, ledger, now, policy, channels)
    watched = Watched(tuple(notices) + probes, tuple(warnings), tuple(problems), tuple(failed))
    return with_health(ledger, health), watched


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


def _observe_silence(health: Health, now: datetime, policy: HealthPolicy) -> Health:
    silent = silent_workspaces(health, now, policy.no_logs_after)
    for workspace in sorted({logs.workspace for logs in health.environments.values()}):
        if workspace in silent:
            newest, _ = silent[workspace]
            health = observe_failure(health, PartKind.LOGS, workspace, NO_ROWS, now, since=newest)
        else:
            health = observe_success(health, PartKind.LOGS, workspace, now)
    return health


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
        log.warning(
            "could not count the ledger's failure in its health record either (%s)",
            type(second).__name__,
        )
