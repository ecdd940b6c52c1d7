"""Read image-pull failures from a query export on disk, reduced as the Log Analytics query does.

Reads the file (disk I/O, nothing else) in either shape Log Analytics exports take: the JSON list
of row objects that ``az monitor log-analytics query -o json`` prints, or the REST
``{"tables": [{"columns": [...], "rows": [[...]]}]}`` document. Rows may come from either table
flavour (``Log_s`` or ``Log``, see ``pullwatch.fetch.logquery.TABLE_COLUMNS``). ``reduce_rows`` applies
the query's window, the signal filter of ``classifiers.signals`` and the ``summarize`` in Python,
so for the same rows both sources give the same groups. Exports carry no ingestion time: groups
have ``last_ingested=None``, results ``max_ingested=None``, and a watermark narrows the
``TimeGenerated`` window only (``TimeGenerated > watermark - lookback``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from classifiers.signals import is_failure_row, is_success_row
from pullwatch.errors import ExportError
from pullwatch.fetch.logquery import TABLE_COLUMNS, fetch_result, query_start
from pullwatch.fetch.records import MAX_SAMPLES, SAMPLE_CHARS, FetchResult, RevisionGroup, Signal
from pullwatch.settings import TableMode


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


def _parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def row_from_mapping(row: Mapping[str, Any]) -> LogRow:
    """A raw row (plain or ``_s`` columns) by common name; missing text columns are ``""``."""

    def column(name: str) -> str:
        for table in (TableMode.RESOURCE, TableMode.LEGACY):
            key = TABLE_COLUMNS[table][name]
            if key in row and row[key] is not None:
                return str(row[key])
        return ""

    if row.get("TimeGenerated") in (None, ""):
        raise ExportError("a row has no TimeGenerated")
    return LogRow(
        time_generated=_parse_time(row["TimeGenerated"]),
        environment=column("Environment"),
        app=column("App"),
        revision=column("Revision"),
        replica=column("Replica"),
        reason=column("Reason"),
        log=column("Log"),
        resource_id=column("ResourceId"),
    )


def rows_from_document(document: Any) -> list[LogRow]:
    """Rows of an ``az ... -o json`` list or a REST ``{"tables": [...]}`` document."""
    records: list[Mapping[str, Any]] = []
    if isinstance(document, list):
        records = [r for r in document if isinstance(r, Mapping)]
        if len(records) != len(document):
            raise ExportError("a JSON list export must hold row objects")
    elif isinstance(document, Mapping) and isinstance(document.get("tables"), list):
        for table in document["tables"]:
            names = [c["name"] for c in table.get("columns", [])]
            records.extend(dict(zip(names, r, strict=True)) for r in table.get("rows", []))
    else:
        raise ExportError(
            "not a Log Analytics export: expected a JSON list of rows "
            '(az monitor log-analytics query -o json) or {"tables": [...]}'
        )
    return [row_from_mapping(r) for r in records]


def signal_of(row: LogRow) -> Signal | None:
    if is_failure_row(row.log, row.reason):
        return Signal.FAILURE
    if is_success_row(row.log, row.reason):
        return Signal.SUCCESS
    return None


def reduce_rows(rows: Iterable[LogRow], *, since: datetime) -> list[RevisionGroup]:
    """The query's ``where``/``extend``/``summarize`` in Python (rows after ``since`` only)."""
    keyed: dict[tuple[str, str, str, Signal, str], list[LogRow]] = {}
    for row in rows:
        if row.time_generated <= since:
            continue
        signal = signal_of(row)
        if signal is None:
            continue
        key = (row.environment, row.app, row.revision, signal, row.reason)
        keyed.setdefault(key, []).append(row)
    groups = []
    for (environment, app, revision, signal, reason), members in keyed.items():
        samples: list[str] = []
        for member in members:  # make_set(substring(Log, 0, SAMPLE_CHARS), MAX_SAMPLES)
            text = member.log[:SAMPLE_CHARS]
            if text not in samples and len(samples) < MAX_SAMPLES:
                samples.append(text)
        groups.append(
            RevisionGroup(
                environment=environment,
                app=app,
                revision=revision,
                signal=signal,
                reason=reason,
                count=len(members),
                first_seen=min(m.time_generated for m in members),
                last_seen=max(m.time_generated for m in members),
                last_ingested=None,
                samples=tuple(sorted(samples)),
                resource_id=max(m.resource_id for m in members),
            )
        )
    return groups


class FileSource:
    """``FailureSource`` over an export file (offline use, the demo)."""

    def __init__(self, path: str | Path, lookback: timedelta) -> None:
        self.path = Path(path)
        self.lookback = lookback
        self._rows: list[LogRow] | None = None

    def rows(self) -> list[LogRow]:
        """The file's rows (read once)."""
        if self._rows is None:
            try:
                document = json.loads(self.path.read_text(encoding="utf-8"))
            except OSError as error:
                raise ExportError(f"cannot read {self.path}: {error.strerror}") from None
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                raise ExportError(f"{self.path} is not JSON: {error}") from None
            try:
                self._rows = rows_from_document(document)
            except (KeyError, TypeError, ValueError) as error:
                raise ExportError(f"{self.path}: unreadable row ({error})") from None
        return self._rows

    def latest_time(self) -> datetime | None:
        """The newest ``TimeGenerated`` in the file (the export's own "now")."""
        return max((r.time_generated for r in self.rows()), default=None)

    def fetch(self, *, watermark: datetime | None, now: datetime) -> FetchResult:
        since = query_start(watermark=watermark, now=now, lookback=self.lookback)
        return fetch_result(reduce_rows(self.rows(), since=since))
