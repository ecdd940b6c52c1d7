"""``pullwatch verify-query`` prints the Resource Graph query behind the configuration check, and
the helpers ``run``, ``scan`` and ``classify`` use for ``--resources FILE`` (the JSON ``az graph
query -q "<that query>" --first 1000`` prints, or a plain array of resource objects). Pure
except for reading that file.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from classifiers import Diagnosis
from pullwatch.verify.findings import Target, Verification, evaluate
from pullwatch.verify.query import build_query
from pullwatch.verify.snapshot import Snapshot, load_snapshot_file

RESOURCES_HELP = (
    "check the configuration against this Resource Graph export: the JSON of az graph query "
    '-q "$(python -m pullwatch verify-query --app NAME)" --first 1000, or a JSON array of '
    "resource objects"
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "verify-query",
        help="print the Azure Resource Graph query of the configuration check",
        description=(
            "Print the Resource Graph query pullwatch runs to check the apps' registry settings, "
            "identities, roles and network; run it with az graph query and pass the output to "
            "run/scan/classify --resources."
        ),
    )
    parser.add_argument(
        "--app", action="append", required=True, metavar="NAME", help="app or job (repeatable)"
    )
    parser.add_argument(
        "--environment",
        action="append",
        default=[],
        metavar="NAME",
        help="Container Apps environment (repeatable)",
    )
    parser.set_defaults(func=run_verify_query)


def run_verify_query(args: argparse.Namespace) -> int:
    sys.stdout.write(build_query(args.app, args.environment))
    return 0


def add_resources_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--resources", metavar="FILE", help=RESOURCES_HELP)


def load_resources(path: str | None) -> Snapshot | None:
    return load_snapshot_file(path) if path else None


def check_diagnosis(
    snapshot: Snapshot,
    diagnosis: Diagnosis,
    *,
    environment: str,
    app: str,
    revision: str,
    last_failure: datetime | None,
    now: datetime | None = None,
) -> Verification:
    """The configuration check of one diagnosed failure against ``snapshot``."""
    moment = now or datetime.now(UTC)
    target = Target(
        environment=environment,
        app=app,
        revision=revision,
        cause=diagnosis.cause.value,
        last_failure=last_failure or moment,
        image=diagnosis.image,
        registry=diagnosis.registry,
        client_ip=diagnosis.client_ip,
    )
    return evaluate(target, snapshot, checked_at=moment)


def verification_lines(verification: Verification, indent: str = "  ") -> list[str]:
    """Terminal lines: each finding with its id, then the leading fix."""
    if verification.error and not verification.findings:
        return [f"{indent}could not check the configuration: {verification.error}"]
    lines = [f"{indent}✔ {f.id.value}: {f.text}" for f in verification.findings]
    fix = verification.fix
    if fix is not None:
        lines.append(f"{indent}  fix: {fix.text}")
        if fix.command:
            lines.append(f"{indent}  $ {fix.command}")
    return lines


def verification_record(verification: Verification) -> dict[str, Any]:
    """The JSON form added to ``--json`` output."""
    fix = verification.fix
    return {
        "findings": [{"id": f.id.value, "text": f.text} for f in verification.findings],
        "fix": {"text": fix.text, "command": fix.command} if fix else None,
        "check_error": verification.error,
    }
