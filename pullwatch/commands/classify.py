"""``pullwatch classify``: triage log lines from the terminal (pure; reads stdin or one file).

Messages given as arguments are classified as they are. Lines read from stdin or ``--from-file``
are a log dump: lines that are not image-pull failures (``classifiers.signals``, the same rule a
tick uses) are skipped and counted, unless ``--all``; an export in any format ``scan`` reads
(JSON documents, JSON lines such as ``az containerapp logs show --format json``, the Logs blade's
CSV) is unpacked to each row's log text and reason, and so is a JSON object on a line of plain
text. The count goes to stderr at the end ("3 failures in 44 lines"); the exit code is 1 when no
failure was found, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from typing import IO, Any

from classifiers import Diagnosis, classify
from classifiers.signals import is_failure_row
from pullwatch.errors import ExportError
from pullwatch.fetch.exports import ExportFormat, open_export, parse_json_line, read_export

MAX_LINE = 1_000_000
TEXT_KEYS = ("Log", "Log_s", "Msg", "Message")
REASON_KEYS = ("Reason", "Reason_s")


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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.messages and args.from_file:
        print("pullwatch: error: give messages or --from-file, not both", file=sys.stderr)
        return 2
    out = sys.stdout
    found = total = 0
    with ExitStack() as stack:
        if args.messages:
            unit = "message"
            entries: Iterator[tuple[str, str | None]] = ((m, None) for m in args.messages)
            keep_all = True
        else:
            unit, entries = _dump(stack, args.from_file)
            keep_all = args.all
        for text, reason in entries:
            total += 1
            why = reason or args.reason
            if not keep_all and not is_failure_row(text, why):
                continue
            diagnosis = classify(text, why)
            if args.json:
                out.write(json.dumps(diagnosis.to_dict(), ensure_ascii=False) + "\n")
            else:
                if found:
                    out.write("\n")
                out.write(render_text(diagnosis))
            found += 1
    out.flush()
    print(counted(found, total, unit, skipped=not keep_all), file=sys.stderr)
    return 0 if found else 1


def counted(found: int, total: int, unit: str, *, skipped: bool) -> str:
    """``3 failures in 44 lines`` (and how to see the skipped ones)."""
    line = (
        f"{found} failure{'' if found == 1 else 's'} in {total} {unit}{'' if total == 1 else 's'}"
    )
    if skipped and total > found:
        line += f" ({total - found} not image-pull failures skipped; --all classifies them too)"
    return line


def _dump(stack: ExitStack, path: str | None) -> tuple[str, Iterator[tuple[str, str | None]]]:
    """("line" or "row", (text, reason) pairs) of stdin or ``path``, an export or plain lines."""
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


def _text_lines(text: IO[str]) -> Iterator[tuple[str, str | None]]:
    for line in text:
        content = line.rstrip("\r\n")[:MAX_LINE]
        if not content.strip():
            continue
        record = parse_json_line(content) if content.lstrip().startswith("{") else None
        if record is not None and _pick(record, TEXT_KEYS) is not None:
            yield _unpacked(record)
        else:
            yield content, None


def _export_rows(tables: Iterator[Any], name: str) -> Iterator[tuple[str, str | None]]:
    for table in tables:
        if not set(table.columns).intersection(TEXT_KEYS + REASON_KEYS):
            found = ", ".join(table.columns[:40]) or "none"
            raise ExportError(
                f"{name}: missing columns: log text or reason (Log or Log_s or Reason or "
                f"Reason_s); columns found: {found}"
            )
        for row in table.rows:
            yield _unpacked(row)


def _unpacked(record: Mapping[str, Any]) -> tuple[str, str | None]:
    text = _pick(record, TEXT_KEYS)
    reason = _pick(record, REASON_KEYS)
    return (text or "")[:MAX_LINE], reason or None


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
