"""The log pipeline's health: do Container Apps system logs still arrive, and in which table. Pure.

The log query (issue 13) also counts, per workspace, table and environment, all system-log rows
of the lookback and the time of the newest: ``TableRows``. From those, each tick:

- ``observe_tables`` remembers per environment the table its newest rows are in and when it was
  seen, and returns one WARNING text when that table changed (an environment moved from the
  legacy ``log-analytics`` destination, ``ContainerAppSystemLogs_CL``, to diagnostic settings,
  ``ContainerAppSystemLogs``, or back); the next tick, remembering the new table, says nothing;
- ``silent_workspaces`` names the workspaces whose known environments sent no row for
  ``PULLWATCH_NO_LOGS_AFTER`` (6 hours), with the newest row's time: the stage then marks the
  ``logs:<workspace>`` part failing since that time, which the self-alerts announce at once.

"Known environments" are those pullwatch saw rows from before (kept in the ledger's health
record); a workspace no environment ever wrote to is not watched (``doctor`` shows its tables).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pullwatch.ledger.fields import utc
from pullwatch.ledger.health import EnvironmentLogs, Health, with_environment


@dataclass(frozen=True)
class TableRows:
    """All system-log rows of one table from one environment in one workspace, in the lookback."""

    workspace: str
    table: str  # ContainerAppSystemLogs_CL or ContainerAppSystemLogs
    environment: str
    rows: int
    last_seen: datetime | None  # the newest row's TimeGenerated


def observe_tables(
    health: Health, counted: Iterable[TableRows], now: datetime, *, fixed_table: str | None = None
) -> tuple[Health, list[str]]:
    """The record with each environment's table and newest row, and a warning per environment
    whose table changed. ``fixed_table``: ``PULLWATCH_TABLE`` when it is not ``auto``."""
    newest: dict[tuple[str, str], TableRows] = {}
    for rows in counted:
        if rows.rows <= 0 or rows.last_seen is None:
            continue
        key = (rows.workspace, rows.environment)
        best = newest.get(key)
        if best is None or (best.last_seen is not None and rows.last_seen > best.last_seen):
            newest[key] = rows
    warnings: list[str] = []
    for (workspace, environment), rows in sorted(newest.items()):
        assert rows.last_seen is not None
        old = health.environments.get(f"{workspace}/{environment}")
        if old is not None and old.table is not None and old.table != rows.table:
            warnings.append(_switched(environment, workspace, old.table, rows.table, fixed_table))
        seen = utc(rows.last_seen)
        if old is not None and old.last_seen is not None and old.last_seen > seen:
            seen = old.last_seen
        health = with_environment(
            health,
            EnvironmentLogs(
                workspace=workspace,
                environment=environment,
                table=rows.table,
                last_seen=seen,
                known_since=old.known_since if old is not None else utc(now),
            ),
        )
    return health, warnings


def _switched(environment: str, workspace: str, old: str, new: str, fixed_table: str | None) -> str:
    text = (
        f"environment {environment} (workspace {workspace}) now writes its system logs to "
        f"{new} (was {old}): its logging destination changed"
    )
    if fixed_table is not None and fixed_table != new:
        return text + (
            f"; PULLWATCH_TABLE={fixed_table} does not read them: set PULLWATCH_TABLE to auto "
            f"or {new}"
        )
    return text + "; pullwatch reads both tables (PULLWATCH_TABLE=auto), nothing to change"


def silent_workspaces(
    health: Health, now: datetime, after: timedelta
) -> dict[str, tuple[datetime, tuple[str, ...]]]:
    """Workspace -> (its newest system-log row, its environments) for every workspace whose
    known environments sent nothing for ``after`` or longer."""
    by_workspace: dict[str, list[EnvironmentLogs]] = defaultdict(list)
    for logs in health.environments.values():
        by_workspace[logs.workspace].append(logs)
    silent: dict[str, tuple[datetime, tuple[str, ...]]] = {}
    for workspace, known in sorted(by_workspace.items()):
        newest = max(logs.last_seen or logs.known_since for logs in known)
        if utc(now) - newest >= after:
            silent[workspace] = (newest, tuple(sorted(logs.environment for logs in known)))
    return silent


def quiet_environments(health: Health, now: datetime, after: timedelta) -> list[EnvironmentLogs]:
    """Environments whose newest row is older than ``after`` (``ledger show``)."""
    return [
        logs
        for _, logs in sorted(health.environments.items())
        if utc(now) - (logs.last_seen or logs.known_since) >= after
    ]
