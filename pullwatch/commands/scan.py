"""``pullwatch query`` prints the KQL; ``pullwatch scan`` lists failing revisions with causes.

``scan`` reads Log Analytics (``--workspace``, else ``PULLWATCH_WORKSPACE_IDS``; network) or an
export file (``--from-file``; disk), classifies each revision with ``observe()`` and prints one line
per failing revision. A summary (rows returned versus rows matched) goes to stderr.
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
from pullwatch.decide.observe import RevisionObservation, observe
from pullwatch.durations import parse_duration
from pullwatch.errors import SettingsError
from pullwatch.fetch.filesource import FileSource
from pullwatch.fetch.logquery import LogAnalyticsSource, build_query
from pullwatch.fetch.records import FailureSource, FetchResult
from pullwatch.settings import TableMode, load_settings
from pullwatch.verify.findings import VERIFIED_CAUSES


def register(subparsers: Any) -> None:
    query = subparsers.add_parser(
        "query",
        help="print the Log Analytics query for the current settings",
        description=(
            "Print the KQL pullwatch runs (for PULLWATCH_TABLE and PULLWATCH_LOOKBACK), "
            "ready to paste into the Logs blade."
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
        help="an export: az monitor log-analytics query -o json output, or the REST "
        '{"tables": [...]} document',
    )
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
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text[:40]!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run_query(args: argparse.Namespace) -> int:
    settings = load_settings(os.environ)
    table = TableMode(args.table) if args.table else settings.table
    sys.stdout.write(
        build_query(
            table,
            watermark=args.watermark,
            now=args.now or datetime.now(UTC),
            lookback=args.since or settings.lookback,
        )
    )
    return 0


def run_scan(args: argparse.Namespace) -> int:
    source: FailureSource
    if args.from_file:
        files = FileSource(args.from_file, args.since)
        now = args.now or files.latest_time() or datetime.now(UTC)
        source = files
    else:
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
    result = source.fetch(watermark=None, now=now)
    failing = [o for o in observe(result.groups) if o.failing]
    for observation in failing:
        verification = None
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
        if args.json:
            record = scan_record(observation)
            if verification is not None:
                record.update(verification_record(verification))
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(scan_line(observation) + "\n")
            if verification is not None:
                for line in verification_lines(verification):
                    sys.stdout.write(_printable(line) + "\n")
    sys.stderr.write(summary(result, len(failing)) + "\n")
    for warning in result.warnings:
        sys.stderr.write(f"pullwatch: warning: {warning}\n")
    return 0


def _time(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "-"


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def scan_record(observation: RevisionObservation) -> dict[str, Any]:
    """The JSON form of one failing revision."""
    diagnosis = observation.diagnosis
    recovered = (
        observation.last_success is not None
        and observation.last_failure is not None
        and observation.last_success > observation.last_failure
    )
    return {
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


def scan_line(observation: RevisionObservation) -> str:
    """``app  revision  cause  count=N  first=..  last=..  image=..`` (and recovery, if any)."""
    record = scan_record(observation)
    line = (
        f"{record['app']}  {record['revision']}  {record['cause']}  count={record['count']}  "
        f"first={record['first_seen']}  last={record['last_seen']}  "
        f"image={record['image'] or '-'}"
    )
    if record["recovered"]:
        line += f"  recovered={record['last_success']}"
    return _printable(line)


def summary(result: FetchResult, failing: int) -> str:
    state = " (partial)" if result.partial else ""
    return (
        f"# {failing} failing revision(s){state}; {len(result.groups)} rows returned for "
        f"{result.rows_matched} rows matched"
    )
