"""``pullwatch classify``: triage log lines from the terminal (pure; reads stdin or one file).

Messages given as arguments are classified as they are. Lines read from stdin or ``--from-file``
are a log dump: lines that are not image-pull failures (``classifiers.signals``, the same rule a
tick uses) are skipped and counted, unless ``--all``; an export in any format ``scan`` reads
(JSON documents, JSON lines such as ``az containerapp logs show --format json``, the Logs blade's
CSV) is unpacked to each row's log text and reason, and so is a JSON object on a line of plain
text. The count goes to stderr at the end ("3 failures in 44 lines"); the exit code is 1 when no
failure was found, 0 otherwise.

``--resources FILE`` (the JSON of ``az graph query``, see ``pullwatch verify-query``) checks each
failure whose cause the configuration can explain against that snapshot, as a tick would: the
app, environment and revision come from the row (an export's columns, a log-stream object's
fields), else from ``--app``/``--environment``/``--revision``; the last failure's time from the
row, else now. Without an app name the check says so instead of guessing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from classifiers import Diagnosis, classify
from classifiers.signals import is_failure_row
from pullwatch.commands.verify import (
    add_resources_option,
    check_diagnosis,
    load_resources,
    verification_lines,
    verification_record,
)
from pullwatch.errors import ExportError
from pullwatch.fetch.exports import (
    ExportFormat,
    open_export,
    parse_json_line,
    parse_time,
    read_export,
)
from pullwatch.fetch.logquery import TABLE_COLUMNS
from pullwatch.verify.findings import VERIFIED_CAUSES, Verification
from pullwatch.verify.snapshot import Snapshot

MAX_LINE = 1_000_000
TEXT_KEYS = ("Log", "Log_s", "Msg", "Message")
REASON_KEYS = ("Reason", "Reason_s")
# Where a row names its revision, by common name (either system-log table; the log stream's
# objects use the resource table's names), and the job name for a job's rows.
_PLACE_KEYS = {
    name: tuple(dict.fromkeys(columns[name] for columns in TABLE_COLUMNS.values()))
    for name in ("App", "Environment", "Revision")
}
JOB_KEYS = ("JobName", "JobName_s")


@dataclass(frozen=True)
class Line:
    """One log line to classify, with what its row says about where it came from."""

    text: str
    reason: str | None = None
    app: str | None = None
    environment: str | None = None
    revision: str | None = None
    time: datetime | None = None


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "classify",
        help="name the cause of image-pull log lines and print the fix",
        description=(
            "Classify image-pull failure messages given as arguments, or the failure lines of a "
            "log dump on stdin or in --from-file (plain lines or any export scan reads)."
        ),
    )
    parser.add_argument("messages", nargs="*", metavar="MESSAGE", help="log lines (else stdin)")
    parser.add_argument("--from-file", metavar="PATH", help="read the log dump from this file")
    parser.add_argument("--reason", help="the Reason column, e.g. ImagePullUnauthorized")
    parser.add_argument(
        "--all", action="store_true", help="classify every line, failure or not (as arguments are)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    add_resources_option(parser)
    for option, what in (
        ("--app", "app or job"),
        ("--environment", "Container Apps environment"),
        ("--revision", "revision"),
    ):
        parser.add_argument(
            option,
            metavar="NAME",
            help=f"the {what} the lines come from, for --resources (rows that name one win)",
        )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.messages and args.from_file:
        print("pullwatch: error: give messages or --from-file, not both", file=sys.stderr)
        return 2
    snapshot = load_resources(args.resources)
    now = datetime.now(UTC)
    out = sys.stdout
    found = total = 0
    with ExitStack() as stack:
        if args.messages:
            unit = "message"
            entries: Iterator[Line] = (Line(m) for m in args.messages)
            keep_all = True
        else:
            unit, entries = _dump(stack, args.from_file)
            keep_all = args.all
        for line in entries:
            total += 1
            why = line.reason or args.reason
            if not keep_all and not is_failure_row(line.text, why):
                continue
            diagnosis = classify(line.text, why)
            checked = _check(snapshot, diagnosis, line, args, now)
            if args.json:
                record = diagnosis.to_dict()
                if checked is not None:
                    record.update(verification_record(checked))
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                if found:
                    out.write("\n")
                out.write(render_text(diagnosis))
                if checked is not None:
                    out.write("  checked against the configuration (--resources):\n")
                    for text in verification_lines(checked, indent="    "):
                        out.write(_printable(text) + "\n")
            found += 1
    out.flush()
    print(counted(found, total, unit, skipped=not keep_all), file=sys.stderr)
    return 0 if found else 1


def _check(
    snapshot: Snapshot | None,
    diagnosis: Diagnosis,
    line: Line,
    args: argparse.Namespace,
    now: datetime,
) -> Verification | None:
    """The configuration check of one classified line (``None``: no --resources, or a cause
    the configuration cannot explain)."""
    if snapshot is None or diagnosis.cause.value not in VERIFIED_CAUSES:
        return None
    app = line.app or args.app
    if not app:
        return Verification(
            diagnosis.cause.value,
            now,
            error="the line names no app: give --app NAME (and --environment NAME)",
        )
    return check_diagnosis(
        snapshot,
        diagnosis,
        environment=line.environment or args.environment or "",
        app=app,
        revision=line.revision or args.revision or "",
        last_failure=line.time,
        now=now,
    )


def counted(found: int, total: int, unit: str, *, skipped: bool) -> str:
    """``3 failures in 44 lines`` (and how to see the skipped ones)."""
    line = (
        f"{found} failure{'' if found == 1 else 's'} in {total} {unit}{'' if total == 1 else 's'}"
    )
    if skipped and total > found:
        line += f" ({total - found} not image-pull failures skipped; --all classifies them too)"
    return line


def _dump(stack: ExitStack, path: str | None) -> tuple[str, Iterator[Line]]:
    """("line" or "row", the lines) of stdin or ``path``, an export or plain lines."""
    if path:
        export = open_export(path, text_ok=True)
        stack.enter_context(export.text)
        name = path
    elif sys.stdin.isatty() or not hasattr(sys.stdin, "buffer"):
        return "line", _text_lines(sys.stdin)  # typed lines: answer each at once
    else:
        name = "stdin"
        export = read_export(sys.stdin.buffer, name, text_ok=True)
    if export.format is ExportFormat.TEXT:
        return "line", _text_lines(export.text)
    return "row", _export_rows(export.tables(), name)


def _text_lines(text: IO[str]) -> Iterator[Line]:
    for line in text:
        content = line.rstrip("\r\n")[:MAX_LINE]
        if not content.strip():
            continue
        record = parse_json_line(content) if content.lstrip().startswith("{") else None
        if record is not None and _pick(record, TEXT_KEYS) is not None:
            yield _unpacked(record)
        else:
            yield Line(content)


def _export_rows(tables: Iterator[Any], name: str) -> Iterator[Line]:
    for table in tables:
        if not set(table.columns).intersection(TEXT_KEYS + REASON_KEYS):
            found = ", ".join(table.columns[:40]) or "none"
            raise ExportError(
                f"{name}: missing columns: log text or reason (Log or Log_s or Reason or "
                f"Reason_s); columns found: {found}"
            )
        for row in table.rows:
            yield _unpacked(row)


def _unpacked(record: Mapping[str, Any]) -> Line:
    text = _pick(record, TEXT_KEYS)
    reason = _pick(record, REASON_KEYS)
    return Line(
        (text or "")[:MAX_LINE],
        reason or None,
        app=_pick(record, _PLACE_KEYS["App"]) or _pick(record, JOB_KEYS),
        environment=_pick(record, _PLACE_KEYS["Environment"]),
        revision=_pick(record, _PLACE_KEYS["Revision"]),
        time=_time_of(record),
    )


def _time_of(record: Mapping[str, Any]) -> datetime | None:
    """The row's time (``TimeGenerated``, the log stream's ``TimeStamp``), if it can be read."""
    value = record.get("TimeGenerated") or record.get("TimeStamp")
    if value in (None, ""):
        return None
    try:
        return parse_time(value)
    except (ExportError, ValueError):
        return None  # the time only sharpens the check; classifying does not need it


def _pick(record: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = record.get(key)
        if value is not None and value != "":
            return str(value)
    return None


def render_text(diagnosis: Diagnosis) -> str:
    """A short terminal block: cause, facts, numbered steps."""
    lines = [f"{diagnosis.cause.value}: {diagnosis.title}", f"  {diagnosis.summary}"]
    facts = [
        ("image", diagnosis.image),
        ("registry", diagnosis.registry),
        ("repository", diagnosis.repository),
        ("tag", diagnosis.tag),
        ("digest", diagnosis.digest),
        ("http status", str(diagnosis.http_status) if diagnosis.http_status else None),
        ("client ip", diagnosis.client_ip),
        ("dns server", diagnosis.dns_server),
        ("identity", diagnosis.identity),
        ("transient", "yes" if diagnosis.transient else None),
    ]
    for label, value in facts:
        if value:
            lines.append(f"  {label + ':':<12} {_printable(value)}")
    lines.append(f"  {'evidence:':<12} {_printable(diagnosis.evidence)}")
    lines.append(f"  {'rule:':<12} {diagnosis.rule} ({diagnosis.confidence.value} confidence)")
    lines.append("  fix:")
    for number, step in enumerate(diagnosis.remediation, start=1):
        lines.append(f"    {number}. {step.text}")
        if step.command:
            lines.append(f"       $ {step.command}")
    lines.append(f"  docs: {diagnosis.doc_url}")
    return "\n".join(lines) + "\n"


def _printable(text: str) -> str:
    """Keep terminal control sequences in log text from reaching the terminal."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)
