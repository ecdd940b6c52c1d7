"""Read image-pull failures from a log export on disk, reduced as the Log Analytics query does.

``pullwatch.fetch.exports`` recognises the file's format and encoding and streams its rows as
mappings by column name (disk I/O, nothing else); here each mapping becomes a ``LogRow``
(``row_from_mapping``), after checking once per table that the columns it needs are there (time,
app, revision, log text and reason): a file without them is an error naming the missing
columns and the columns found, never an empty result. Rows may come from either table flavour
(``Log_s`` or ``Log``, see ``pullwatch.fetch.logquery.TABLE_COLUMNS``); log-stream output may lack
the app or revision, which ``--app``/``--revision`` then give. ``reduce_rows`` applies the query's
window, the row kinds of ``classifiers.signals`` and both ``summarize``s (the groups with their
attempt rows, each environment's activity) in Python, so for the same rows both sources give
the same answer; rows after the tick's ``now`` are left out. Exports carry no ingestion time:
groups have ``last_ingested=None``, results ``max_ingested=None``, and a watermark (key
``FILE_WORKSPACE``) narrows the ``TimeGenerated`` window only (``> watermark - lookback``).
Nothing is held in memory but the groups: every pass reads the file again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from classifiers.signals import row_kind
from pullwatch.errors import ExportError
from pullwatch.fetch.activity import is_activity_export, summarize_raw_rows
from pullwatch.fetch.activity import read_rows as read_activity_rows
from pullwatch.fetch.exports import SUMMARY_ROWS, is_summary, open_export, parse_time
from pullwatch.fetch.kql import query_start
from pullwatch.fetch.logquery import (
    TABLE_COLUMNS,
    Answer,
    fetch_result,
    sort_groups,
)
from pullwatch.fetch.records import (
    ANY_WORKSPACE,
    MAX_ROW_REFS,
    SAMPLE_CHARS,
    EnvironmentActivity,
    FetchResult,
    RevisionGroup,
    RowRef,
    Signal,
    WorkspaceOutcome,
    newest_writes,
)
from pullwatch.settings import TableMode

TABLE_FLAVOURS = (TableMode.RESOURCE, TableMode.LEGACY)
FILE_WORKSPACE = "file"  # the watermark key and workspace label of rows read from a file


@dataclass(frozen=True)
class LogRow:
    """One raw system-log row, by common name (either table flavour)."""

    time_generated: datetime
    environment: str
    app: str
    revision: str
    replica: str
    reason: str
    log: str
    resource_id: str = ""
    container: str = ""
    job: str = ""
    pulls: int = 1  # the platform's Count column (1 when absent)
    table: str = ""  # which table flavour the row's columns are from


# What a table must have: (label, the columns of either flavour that give it). Without the log
# text or the reason a failure can be missed, so each is needed (every system-log table has both).
NEEDED_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("time", ("TimeGenerated",)),
    ("app", tuple(TABLE_COLUMNS[t]["App"] for t in TABLE_FLAVOURS)),
    ("revision", tuple(TABLE_COLUMNS[t]["Revision"] for t in TABLE_FLAVOURS)),
    ("log text", tuple(TABLE_COLUMNS[t]["Log"] for t in TABLE_FLAVOURS)),
    ("reason", tuple(TABLE_COLUMNS[t]["Reason"] for t in TABLE_FLAVOURS)),
)


def missing_columns(
    columns: Iterable[str], *, given: Iterable[str] = ()
) -> list[tuple[str, tuple[str, ...]]]:
    """The needed columns (label, alternatives) a table lacks; ``given`` labels are supplied."""
    present = set(columns)
    supplied = set(given)
    return [
        (label, names)
        for label, names in NEEDED_COLUMNS
        if label not in supplied and not present.intersection(names)
    ]


def check_columns(columns: tuple[str, ...], *, name: str, given: Iterable[str] = ()) -> None:
    """``ExportError`` naming the missing and the found columns, or for summarized rows."""
    if is_summary(columns):
        raise ExportError(f"{name}: {SUMMARY_ROWS}")
    missing = missing_columns(columns, given=given)
    if not missing:
        return
    wanted = "; ".join(f"{label} ({' or '.join(names)})" for label, names in missing)
    found = ", ".join(columns[:40]) + (", ..." if len(columns) > 40 else "") or "none"
    raise ExportError(f"{name}: missing columns: {wanted}; columns found: {found}")


# Each common name with its column in either table flavour (resource-specific first).
_COLUMN_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (name, tuple(TABLE_COLUMNS[table][name] for table in TABLE_FLAVOURS))
    for name in TABLE_COLUMNS[TableMode.RESOURCE]
)
_LEGACY_LOG = TABLE_COLUMNS[TableMode.LEGACY]["Log"]


def row_from_mapping(row: Mapping[str, Any], defaults: Mapping[str, str] | None = None) -> LogRow:
    """A raw row (plain or ``_s`` columns) by common name; missing text columns come from
    ``defaults`` (by common name, e.g. ``{"App": "orders-api"}``) or are ``""``. Rows of one
    export may differ in their columns, so each row is read by name (in one loop: a file
    source calls this for every row)."""
    if row.get("TimeGenerated") in (None, ""):
        raise ExportError("a row has no TimeGenerated")
    get = row.get
    values: dict[str, str] = {}
    for name, keys in _COLUMN_KEYS:
        for key in keys:
            value = get(key)
            if value is not None and value != "":
                values[name] = value if isinstance(value, str) else str(value)
                break
        else:
            values[name] = defaults.get(name, "") if defaults else ""
    return LogRow(
        time_generated=parse_time(row["TimeGenerated"]),
        environment=values["Environment"],
        app=values["App"],
        revision=values["Revision"],
        replica=values["Replica"],
        reason=values["Reason"],
        log=values["Log"],
        resource_id=values["ResourceId"],
        container=values["Container"],
        job=values["Job"],
        pulls=_pulls(values["Pulls"]),
        table=(TableMode.LEGACY if _LEGACY_LOG in row else TableMode.RESOURCE).value,
    )


def _pulls(value: str) -> int:
    """The platform's count as the query reads it (``toint``), 1 when absent or odd."""
    try:
        count = int(float(value))
    except ValueError:
        return 1
    return count if count >= 1 else 1


def signal_of(row: LogRow) -> Signal | None:
    kind = row_kind(row.log, row.reason)
    return Signal(kind) if kind else None


_GroupKey = tuple[str, str, str, str, str, Signal, str, str]


def reduce_rows(
    rows: Iterable[LogRow], *, since: datetime, workspace: str = ""
) -> tuple[list[RevisionGroup], list[EnvironmentActivity]]:
    """The query's ``where``/``extend``/``summarize`` in Python (rows after ``since`` only):
    the groups, and each environment's activity (every row, per table)."""
    keyed: dict[_GroupKey, _Group] = {}
    activity: dict[tuple[str, str], _Seen] = {}
    for row in rows:
        if row.time_generated <= since:
            continue
        seen = activity.get((row.environment, row.table))
        if seen is None:
            seen = activity[(row.environment, row.table)] = _Seen(row.time_generated)
        seen.add(row.time_generated)
        signal = signal_of(row)
        if signal is None:
            continue
        text = row.log[:SAMPLE_CHARS]
        key = (
            row.environment,
            row.app,
            row.revision,
            row.job,
            row.container,
            signal,
            row.reason,
            text,
        )
        group = keyed.get(key)
        if group is None:
            group = keyed[key] = _Group(row.time_generated)
        group.add(row, signal)
    groups = [
        RevisionGroup(
            environment=environment,
            app=app,
            revision=revision,
            signal=signal,
            reason=reason,
            count=group.count,
            first_seen=group.first,
            last_seen=group.last,
            last_ingested=None,
            text=text,
            container=container,
            job=job,
            rows=tuple(sorted(group.refs, key=lambda r: (r.time, r.replica))),
            resource_id=group.resource_id,
            workspace=workspace,
        )
        for (
            environment,
            app,
            revision,
            job,
            container,
            signal,
            reason,
            text,
        ), group in keyed.items()
    ]
    environments = [
        EnvironmentActivity(
            environment=environment,
            table=table,
            rows=seen.rows,
            first_seen=seen.first,
            last_seen=seen.last,
            workspace=workspace,
        )
        for (environment, table), seen in activity.items()
    ]
    return groups, environments


class _Seen:
    """The running count and time range of an environment's rows."""

    def __init__(self, first: datetime) -> None:
        self.rows = 0
        self.first = first
        self.last = first

    def add(self, moment: datetime) -> None:
        self.rows += 1
        self.first = min(self.first, moment)
        self.last = max(self.last, moment)


class _Group:
    """The running ``summarize`` of one group (count, times, attempt rows, resource id)."""

    def __init__(self, first: datetime) -> None:
        self.count = 0
        self.first = first
        self.last = first
        self.refs: set[RowRef] = set()
        self.resource_id = ""

    def add(self, row: LogRow, signal: Signal) -> None:
        self.count += 1
        self.first = min(self.first, row.time_generated)
        self.last = max(self.last, row.time_generated)
        self.resource_id = max(self.resource_id, row.resource_id)
        if signal is Signal.FAILURE and len(self.refs) < MAX_ROW_REFS:
            self.refs.add(RowRef(row.time_generated, row.replica, row.pulls))


class FileSource:
    """``FailureSource`` over an export file (offline use, the demo); see the module docstring.

    ``app``, ``revision`` and ``environment`` fill rows that name none (log-stream output)."""

    def __init__(
        self,
        path: str | Path,
        lookback: timedelta,
        *,
        app: str | None = None,
        revision: str | None = None,
        environment: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.lookback = lookback
        given = {"App": app, "Revision": revision, "Environment": environment}
        self.defaults = {name: value for name, value in given.items() if value}
        self.description: str | None = None  # the format read, once a pass has started
        self.warnings: tuple[str, ...] = ()  # what the last pass (or fetch) skipped or left out
        self._latest: datetime | None = None
        self.has_activity_log = False  # set by a pass that met an Activity Log table

    def rows(self) -> Iterator[LogRow]:
        """The file's system-log rows, streamed (each call reads the file again). A table of
        Activity Log rows (``AzureActivity``'s columns) is skipped here: ``activity_rows``."""
        export = open_export(self.path)
        self.description = export.description
        given = {name.lower() for name in self.defaults}
        with export.text:
            for table in export.tables():
                if is_activity_export(table.columns):
                    self.has_activity_log = True
                    for _ in table.rows:  # consume it: the next table follows
                        pass
                    continue
                check_columns(table.columns, name=str(self.path), given=given)
                for number, mapping in enumerate(table.rows, start=1):
                    try:
                        yield row_from_mapping(mapping, self.defaults)
                    except (ValueError, TypeError, ExportError) as error:
                        raise ExportError(f"{self.path}: row {number}: {error}") from None
        self.warnings = tuple(export.warnings)

    def activity_rows(self) -> Iterator[dict[str, Any]]:
        """The raw rows of the file's Activity Log tables, streamed."""
        export = open_export(self.path)
        with export.text:
            for table in export.tables():
                if is_activity_export(table.columns):
                    yield from table.rows
                else:
                    for _ in table.rows:
                        pass

    def latest_time(self) -> datetime | None:
        """The newest ``TimeGenerated`` in the file (the export's own "now"); one pass (two
        with Activity Log rows)."""
        if self._latest is None:
            times = [max((r.time_generated for r in self.rows()), default=None)]
            if self.has_activity_log:
                times.extend(_time_of(row) for row in self.activity_rows())
            self._latest = max((t for t in times if t is not None), default=None)
        return self._latest

    def fetch(
        self, *, watermarks: Mapping[str, datetime] | None = None, now: datetime
    ) -> FetchResult:
        marks = watermarks or {}
        watermark = marks.get(FILE_WORKSPACE, marks.get(ANY_WORKSPACE))
        since = query_start(watermark=watermark, now=now, lookback=self.lookback)
        later = 0

        def until_now(rows: Iterable[LogRow]) -> Iterator[LogRow]:
            nonlocal later
            for row in rows:
                if row.time_generated <= now:
                    yield row
                else:
                    later += 1

        groups, activity = reduce_rows(
            until_now(self.rows()), since=since, workspace=FILE_WORKSPACE
        )
        warnings = list(self.warnings)
        if later:
            warnings.append(
                f"{self.path}: {later} row(s) after {now.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ} "
                "(the tick's now) were left out"
            )
        self.warnings = tuple(warnings)
        answer = Answer(sort_groups(groups), tuple(activity))
        if self.has_activity_log:
            current = (r for r in self.activity_rows() if (_time_of(r) or now) <= now)
            answer = answer.with_activity_log(
                read_activity_rows(summarize_raw_rows(current, since=since))
            )
        outcome = WorkspaceOutcome(FILE_WORKSPACE, warnings=tuple(warnings))
        return fetch_result([(outcome, answer)], horizon=since)


def _time_of(row: Mapping[str, Any]) -> datetime | None:
    try:
        return parse_time(row.get("TimeGenerated"))
    except (ValueError, TypeError, ExportError):
        return None


class FileSources:
    """``FailureSource`` over several exports read as one (``--from-file`` given more than once:
    system logs and the Activity Log, or several environments)."""

    def __init__(self, sources: Sequence[FileSource]) -> None:
        if not sources:
            raise ValueError("at least one file is needed")
        self.sources = tuple(sources)

    @property
    def description(self) -> str:
        return "; ".join(f"{s.path} as {s.description}" for s in self.sources)

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(w for s in self.sources for w in s.warnings)

    def latest_time(self) -> datetime | None:
        return max((t for s in self.sources if (t := s.latest_time()) is not None), default=None)

    def fetch(
        self, *, watermarks: Mapping[str, datetime] | None = None, now: datetime
    ) -> FetchResult:
        results = [source.fetch(watermarks=watermarks, now=now) for source in self.sources]
        return FetchResult(
            groups=sort_groups(g for r in results for g in r.groups),
            workspaces=(
                WorkspaceOutcome(
                    FILE_WORKSPACE, warnings=tuple(w for r in results for w in r.warnings)
                ),
            ),
            activity=tuple(a for r in results for a in r.activity),
            rows_matched=sum(r.rows_matched for r in results),
            warnings=tuple(w for r in results for w in r.warnings),
            horizon=min((r.horizon for r in results if r.horizon), default=None),
            deployments=tuple(d for r in results for d in r.deployments),
            deployed=newest_writes(r.deployed for r in results),
            activity_skipped=sum(r.activity_skipped for r in results),
        )
