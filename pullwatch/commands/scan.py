"""``pullwatch query`` prints the KQL; ``pullwatch scan`` lists failing revisions with causes.

``scan`` reads Log Analytics (``--workspace``, else ``PULLWATCH_WORKSPACE_IDS``; network) or an
export file of any supported format (``--from-file``; disk, see ``pullwatch.fetch.exports``),
classifies each revision with ``observe()`` and prints a table: one row per failing revision
(environment, app, revision, cause, pull attempts, first and last seen, image), then, apart, the
revisions that recovered (a success after their last failure), which are not counted as
failing. ``--json`` prints one object per revision instead. A summary (what was read, rows
returned versus rows matched) goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from pullwatch.commands.verify import (
    add_resources_option,
    check_diagnosis,
    load_resources,
    verification_lines,
    verification_record,
)
from pullwatch.decide.observe import RevisionObservation, observe_reading
from pullwatch.durations import parse_duration, parse_moment
from pullwatch.errors import SettingsError
from pullwatch.fetch.activity import build_activity_query
from pullwatch.fetch.filesource import FileSource, FileSources
from pullwatch.fetch.logquery import LogAnalyticsSource, build_query
from pullwatch.fetch.records import FailureSource, FetchResult
from pullwatch.settings import ActivityMode, TableMode, load_settings
from pullwatch.verify.findings import VERIFIED_CAUSES


def register(subparsers: Any) -> None:
    query = subparsers.add_parser(
        "query",
        help="print the Log Analytics query for the current settings",
        description=(
            "Print the KQL pullwatch runs (for PULLWATCH_TABLE and PULLWATCH_LOOKBACK), "
            "ready to paste into the Logs blade: the system-log query, then (unless "
            "PULLWATCH_ACTIVITY_LOG=off) the Activity Log query, each run on its own."
        ),
    )
    query.add_argument(
        "--table",
        choices=[mode.value for mode in TableMode],
        help="table mode (default: PULLWATCH_TABLE)",
    )
    query.add_argument("--since", type=_duration, help="lookback (default: PULLWATCH_LOOKBACK)")
    query.add_argument("--watermark", type=_moment, help="ingestion-time watermark (ISO 8601)")
    query.add_argument("--now", type=_moment, help="the query's 'now' (ISO 8601; default: now)")
    query.set_defaults(func=run_query)

    scan = subparsers.add_parser(
        "scan",
        help="list revisions that failed to pull their image, with the cause",
        description="One line per failing revision: app, revision, cause, count, first and "
        "last seen, image.",
    )
    source = scan.add_mutually_exclusive_group()
    source.add_argument(
        "--workspace",
        action="append",
        metavar="ID",
        help="Log Analytics workspace id (repeatable; default: PULLWATCH_WORKSPACE_IDS)",
    )
    source.add_argument(
        "--from-file",
        metavar="PATH",
        action="append",
        help="an export: az monitor log-analytics query -o json, the query API's "
        '{"tables": [...]}, az containerapp logs show --format json, or the Logs blade\'s CSV, '
        "of the system logs or of AzureActivity; repeat it to read several as one",
    )
    add_row_defaults(scan)
    scan.add_argument(
        "--since", type=_duration, default=timedelta(hours=24), help="lookback (default 24h)"
    )
    scan.add_argument(
        "--now",
        type=_moment,
        help="end of the window (ISO 8601; default: now, or the newest row of --from-file)",
    )
    scan.add_argument("--json", action="store_true", help="one JSON object per line")
    add_resources_option(scan)
    scan.set_defaults(func=run_scan)


def add_row_defaults(parser: argparse.ArgumentParser) -> None:
    """``--app``, ``--revision``, ``--environment``: for export rows that name none."""
    parser.add_argument(
        "--app", help="app name for rows that carry none (az containerapp logs show output)"
    )
    parser.add_argument("--revision", help="revision name for rows that carry none")
    parser.add_argument("--environment", help="environment name for rows that carry none")


def _duration(text: str) -> timedelta:
    try:
        value = parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if value <= timedelta(0):
        raise argparse.ArgumentTypeError("must be longer than zero")
    return value


def _moment(text: str) -> datetime:
    try:
        return parse_moment(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def run_query(args: argparse.Namespace) -> int:
    settings = load_settings(os.environ)
    table = TableMode(args.table) if args.table else settings.table
    now = args.now or datetime.now(UTC)
    lookback = args.since or settings.lookback
    sys.stdout.write(build_query(table, watermark=args.watermark, now=now, lookback=lookback))
    if settings.activity_log is not ActivityMode.OFF:
        # a second query, run against the same workspace (paste it on its own)
        sys.stdout.write("\n")
        sys.stdout.write(build_activity_query(watermark=args.watermark, now=now, lookback=lookback))
    return 0


def run_scan(args: argparse.Namespace) -> int:
    source: FailureSource
    read = ""
    if args.from_file:
        sources = [
            FileSource(
                path,
                args.since,
                app=args.app,
                revision=args.revision,
                environment=args.environment,
            )
            for path in args.from_file
        ]
        files: FileSource | FileSources = sources[0] if len(sources) == 1 else FileSources(sources)
        now = args.now or files.latest_time() or datetime.now(UTC)
        source = files
    else:
        if args.app or args.revision or args.environment:
            raise SettingsError("--app, --revision and --environment go with --from-file")
        settings = load_settings(os.environ)
        workspaces = tuple(args.workspace or settings.workspace_ids)
        if not workspaces:
            raise SettingsError(
                "nothing to scan: give --workspace ID (or set PULLWATCH_WORKSPACE_IDS) "
                "or --from-file PATH"
            )
        source = LogAnalyticsSource.from_settings(
            settings, workspace_ids=workspaces, lookback=args.since
        )
        now = args.now or datetime.now(UTC)
    snapshot = load_resources(getattr(args, "resources", None))
    result = source.fetch(now=now)
    if isinstance(source, FileSource):
        read = f"read {source.path} as {source.description}; "
    elif isinstance(source, FileSources):
        read = f"read {source.description}; "
    records: list[dict[str, Any]] = []
    checked: list[tuple[dict[str, Any], list[str]]] = []
    for observation in observe_reading(result):
        if not observation.failing:
            continue
        record = scan_record(observation)
        diagnosis = observation.diagnosis
        if snapshot is not None and diagnosis and diagnosis.cause.value in VERIFIED_CAUSES:
            verification = check_diagnosis(
                snapshot,
                diagnosis,
                environment=observation.environment,
                app=observation.app,
                revision=observation.revision,
                last_failure=observation.last_failure,
                now=now,
            )
            checked.append((record, verification_lines(verification)))
            record.update(verification_record(verification))
        records.append(record)
    failing = [r for r in records if not r["recovered"]]
    recovered = [r for r in records if r["recovered"]]
    if args.json:
        for record in records:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(scan_table(failing, recovered))
        if checked:
            sys.stdout.write("\nchecked against the configuration (--resources):\n")
        for record, lines in checked:
            sys.stdout.write(_printable(f"{record['app']} · {record['revision']}") + "\n")
            for line in lines:
                sys.stdout.write(_printable(line) + "\n")
    sys.stderr.write(summary(result, len(failing), len(recovered), read, now) + "\n")
    for warning in result.warnings:
        sys.stderr.write(f"pullwatch: warning: {warning}\n")
    return 0


def _time(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "-"


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def scan_record(observation: RevisionObservation) -> dict[str, Any]:
    """The JSON form of one failing revision (``recovered``: a success after its last failure)."""
    diagnosis = observation.diagnosis
    recovered = (
        observation.last_success is not None
        and observation.last_failure is not None
        and observation.last_success > observation.last_failure
    )
    deployment = observation.deployment
    record: dict[str, Any] = {
        "environment": observation.environment,
        "app": observation.app,
        "revision": observation.revision,
        "cause": diagnosis.cause.value if diagnosis else None,
        "count": observation.failure_count,
        "first_seen": _time(observation.first_failure),
        "last_seen": _time(observation.last_failure),
        "image": diagnosis.image if diagnosis else None,
        "reasons": list(observation.reasons),
        "recovered": recovered,
        "last_success": _time(observation.last_success) if observation.last_success else None,
        "evidence": diagnosis.evidence if diagnosis else None,
    }
    if observation.job:
        record["job"] = observation.job
        record["executions"] = list(observation.executions)
    if deployment is not None:
        record["deployment"] = {
            "resource_id": deployment.resource_id,
            "caller": deployment.caller,
            "at": _time(deployment.time),
            "correlation_id": deployment.correlation_id,
            "error_code": deployment.error_code,
        }
    return record


def _what(record: dict[str, Any]) -> tuple[str, str]:
    """The APP and REVISION cells: a job's name, a refused deployment's caller."""
    name = record["app"] or (f"job {record['job']}" if record.get("job") else "-")
    if record.get("deployment"):
        return name, f"deployment by {record['deployment']['caller'] or 'unknown'}"
    return name, record["revision"] or "-"


COLUMNS: tuple[tuple[str, str], ...] = (
    ("ENVIRONMENT", "environment"),
    ("APP", "app"),
    ("REVISION", "revision"),
    ("CAUSE", "cause"),
    ("ATTEMPTS", "count"),
    ("FIRST SEEN (UTC)", "first_seen"),
    ("LAST SEEN (UTC)", "last_seen"),
)


def _cell(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    if value is None or value == "":
        return "-"
    if key in ("first_seen", "last_seen", "last_success"):
        return str(value).replace("T", " ").rstrip("Z")
    return _printable(str(value))


def _table(records: list[dict[str, Any]], columns: tuple[tuple[str, str], ...]) -> list[str]:
    header = [title for title, _ in columns] + ["IMAGE"]
    shown = [{**r, **dict(zip(("app", "revision"), _what(r), strict=True))} for r in records]
    rows = [[_cell(r, key) for _, key in columns] + [_cell(r, "image")] for r in shown]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    numeric = {i for i, (_, key) in enumerate(columns) if key == "count"}

    def line(cells: list[str]) -> str:
        parts = [
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    return [line(header), *(line(row) for row in rows)]


def scan_table(failing: list[dict[str, Any]], recovered: list[dict[str, Any]]) -> str:
    """The failing revisions as a table with a header; the recovered ones in a table of their own."""
    lines: list[str] = []
    if failing:
        lines.extend(_table(failing, COLUMNS))
    else:
        lines.append("no failing revisions")
    if recovered:
        lines.append("")
        lines.append("recovered (pulled or started after their last failure; not failing):")
        lines.extend(_table(recovered, (*COLUMNS, ("RECOVERED (UTC)", "last_success"))))
    return "\n".join(lines) + "\n"


def summary(
    result: FetchResult, failing: int, recovered: int, read: str = "", now: datetime | None = None
) -> str:
    state = " (partial)" if result.partial else ""
    until = f" up to {_time(now)}" if now else ""
    return (
        f"# {read}{failing} failing revision(s){state}, {recovered} recovered{until}; "
        f"{len(result.groups)} rows returned for {result.rows_matched} rows matched"
    )
