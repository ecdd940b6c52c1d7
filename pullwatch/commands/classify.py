"""``pullwatch classify``: triage one or more log lines from the terminal (pure; reads stdin)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from classifiers import Diagnosis, classify

MAX_LINE = 1_000_000


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "classify",
        help="name the cause of image-pull log lines and print the fix",
        description=(
            "Classify image-pull failure messages given as arguments, or one per line on stdin."
        ),
    )
    parser.add_argument("messages", nargs="*", metavar="MESSAGE", help="log lines (else stdin)")
    parser.add_argument("--reason", help="the Reason column, e.g. ImagePullUnauthorized")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    messages: Iterable[str] = args.messages or _stdin_lines()
    out = sys.stdout
    first = True
    for message in messages:
        diagnosis = classify(message, args.reason)
        if args.json:
            out.write(json.dumps(diagnosis.to_dict(), ensure_ascii=False) + "\n")
        else:
            if not first:
                out.write("\n")
            out.write(render_text(diagnosis))
        first = False
    return 0


def _stdin_lines() -> Iterator[str]:
    for line in sys.stdin:
        text = line.rstrip("\r\n")[:MAX_LINE]
        if text.strip():
            yield text


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
