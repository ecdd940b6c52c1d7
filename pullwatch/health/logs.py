"""The log pipeline's health: do Container Apps system logs still arrive, and in which table. Pure.

The plan stage keeps, per environment, the newest system-log row any tick saw, its table and
workspace (``Ledger.environments``: the evidence that logs flow). From the ledger before and
after this tick's plan:

- ``table_switches`` gives one WARNING text per environment whose newest rows moved to the other
  table (from the legacy ``log-analytics`` destination, ``ContainerAppSystemLogs_CL``, to
  diagnostic settings, ``ContainerAppSystemLogs``, or back); the next tick, which starts from
  the new table, says nothing;
- ``silent_workspaces`` names each workspace that answered this tick while none of the
  environments known to write there sent a row for ``PULLWATCH_NO_LOGS_AFTER`` (6 hours), with
  its newest row's time: the health stage marks the ``logs:<workspace>`` part failing since then,
  which the self-alerts announce at once.

"Known environments" are those the ledger saw rows from before; a workspace no environment ever
wrote to is not watched (``doctor`` shows its tables). Rows read from a file are not a pipeline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from pullwatch.fetch.filesource import FILE_WORKSPACE
from pullwatch.ledger.document import EnvironmentLogs


def table_switches(
    before: Mapping[str, EnvironmentLogs],
    after: Mapping[str, EnvironmentLogs],
    *,
    fixed_table: str | None = None,
) -> list[str]:
    """One warning per environment whose newest rows are in another table than before.
    ``fixed_table``: ``PULLWATCH_TABLE`` when it is not ``auto``."""
    warnings = []
    for environment, now in sorted(after.items()):
        then = before.get(environment)
        if then is None or not then.table or not now.table or then.table == now.table:
            continue
        text = (
            f"environment {environment} (workspace {now.workspace or '-'}) now writes its system "
            f"logs to {now.table} (was {then.table}): its logging destination changed"
        )
        if fixed_table is not None and fixed_table != now.table:
            text += (
                f"; PULLWATCH_TABLE={fixed_table} does not read them: set PULLWATCH_TABLE to "
                f"auto or {now.table}"
            )
        else:
            text += "; pullwatch reads both tables (PULLWATCH_TABLE=auto), nothing to change"
        warnings.append(text)
    return warnings


def environments_by_workspace(
    environments: Mapping[str, EnvironmentLogs],
) -> dict[str, list[tuple[str, EnvironmentLogs]]]:
    """The known environments of each live workspace (files and unnamed ones left out)."""
    grouped: dict[str, list[tuple[str, EnvironmentLogs]]] = defaultdict(list)
    for name, logs in sorted(environments.items()):
        if logs.workspace and logs.workspace != FILE_WORKSPACE:
            grouped[logs.workspace].append((name, logs))
    return dict(grouped)


def silent_workspaces(
    environments: Mapping[str, EnvironmentLogs],
    answered: Iterable[str],
    now: datetime,
    after: timedelta,
) -> dict[str, datetime]:
    """Workspace -> its newest system-log row, for each workspace in ``answered`` whose known
    environments sent nothing for ``after`` or longer."""
    grouped = environments_by_workspace(environments)
    silent = {}
    for workspace in sorted(set(answered)):
        known = grouped.get(workspace)
        if not known:
            continue
        newest = max(logs.last_row for _, logs in known)
        if now - newest >= after:
            silent[workspace] = newest
    return silent


def quiet_environments(
    environments: Mapping[str, EnvironmentLogs], now: datetime, after: timedelta
) -> list[tuple[str, EnvironmentLogs]]:
    """Environments whose newest row is ``after`` old or older (``ledger show``)."""
    return [
        (name, logs)
        for name, logs in sorted(environments.items())
        if logs.workspace != FILE_WORKSPACE and now - logs.last_row >= after
    ]
