"""``pullwatch run`` (one tick from a terminal) and ``pullwatch demo`` (three ticks on bundled data).

``run`` uses the same pipeline as the Function. ``--dry-run`` (or ``PULLWATCH_DRY_RUN=true``)
prints each notification as one JSON line per channel instead of posting it; the ledger marks
them as dry-run deliveries, so a second identical run prints nothing new and a later real run
still posts what is owed. ``demo`` needs no Azure account: bundled sample exports, a local
ledger file (never one it did not make), and messages printed as they would read in chat.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from notifiers.console import ConsoleNotifier
from pullwatch.commands.scan import add_row_defaults
from pullwatch.commands.verify import add_resources_option
from pullwatch.decide import Policy
from pullwatch.decide.alerts import AlertContext
from pullwatch.durations import parse_moment
from pullwatch.errors import SettingsError
from pullwatch.fetch.filesource import FileSource, FileSources
from pullwatch.ledger.stores import FileStore
from pullwatch.settings import load_settings
from pullwatch.tick.pipeline import TickSummary, run_tick
from pullwatch.tick.runtime import build_components, run_components
from pullwatch.verify.stage import FileSource as SnapshotFile
from pullwatch.verify.stage import Verifier

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
DEMO_EXPORT = SAMPLES / "containerapp-system-logs-cl.json"
DEMO_LATER = SAMPLES / "demo-recovery.json"
DEMO_JOBS = SAMPLES / "job-system-logs.json"
DEMO_ACTIVITY = SAMPLES / "azure-activity.json"
DEMO_RESOURCES = SAMPLES / "azure-resources.json"
DEMO_LEDGER = Path(".pullwatch/demo-ledger.json")


def register(subparsers: Any) -> None:
    run = subparsers.add_parser(
        "run",
        help="run one tick: query, classify, decide, notify, remember",
        description="Run one pullwatch tick with the configured settings (environment).",
    )
    run.add_argument(
        "--from-file",
        metavar="PATH",
        action="append",
        help="read a log export (any format `scan --from-file` reads: system logs or the "
        "Activity Log) instead of Log Analytics; repeat it to read several as one",
    )
    run.add_argument(
        "--ledger",
        metavar="PATH",
        help="use this ledger file instead of the configured store (default: settings)",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="print JSON lines, post nothing (as PULLWATCH_DRY_RUN=true)",
    )
    run.add_argument(
        "--now",
        metavar="ISO-8601",
        help="the tick's clock (default: now, UTC; with --from-file the newest row's time)",
    )
    add_row_defaults(run)
    add_resources_option(run)
    run.set_defaults(func=run_command)
    demo = subparsers.add_parser(
        "demo",
        help="three ticks on the bundled samples, messages printed as in chat",
        description="Run the pipeline on bundled sample logs with a local ledger.",
    )
    demo.add_argument(
        "--ledger",
        metavar="PATH",
        default=str(DEMO_LEDGER),
        help=f"the demo's own ledger file (default: {DEMO_LEDGER}); an existing file the "
        "demo did not make is refused",
    )
    demo.set_defaults(func=demo_command)


def parse_now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        return parse_moment(text)
    except ValueError as error:
        raise SettingsError(f"--now: {error}") from None


def run_command(args: argparse.Namespace) -> int:
    components = build_components(
        os.environ,
        from_file=args.from_file[0] if args.from_file else None,
        ledger_path=args.ledger,
        resources=args.resources,
        dry_run=args.dry_run,
        dry_run_out=sys.stdout,
    )
    if isinstance(components.source, FileSource):
        files = file_sources(
            args.from_file,
            components.source.lookback,
            app=args.app,
            revision=args.revision,
            environment=args.environment,
        )
        components = replace(components, source=files)
        if args.now is None:
            latest = files.latest_time()
            now = latest or datetime.now(UTC)
            print(
                f"pullwatch: no --now given: the tick's clock is the newest row's time, "
                f"{now:%Y-%m-%dT%H:%M:%SZ}" + ("" if latest else " (the file has no rows: now)"),
                file=sys.stderr,
            )
        else:
            now = parse_now(args.now)
    elif args.app or args.revision or args.environment:
        raise SettingsError("--app, --revision and --environment go with --from-file")
    else:
        now = parse_now(args.now)
    summary = run_components(components, now)
    if isinstance(components.source, FileSource | FileSources):
        for warning in components.source.warnings:
            print(f"pullwatch: warning: {warning}", file=sys.stderr)
    print(summary.line(), file=sys.stderr)
    return 0


def file_sources(
    paths: Sequence[str | Path], lookback: timedelta, **defaults: str | None
) -> FileSource | FileSources:
    """One source over the files given (``--from-file`` once or more), read as one."""
    sources = [FileSource(path, lookback, **defaults) for path in paths]
    return sources[0] if len(sources) == 1 else FileSources(sources)


def demo_marker(ledger: Path) -> Path:
    """The file that says ``ledger`` was made by the demo (so the demo may start it afresh)."""
    return ledger.with_name(ledger.name + ".demo")


def demo_command(args: argparse.Namespace) -> int:
    logging.getLogger("pullwatch").setLevel(logging.WARNING)
    ledger = Path(args.ledger)
    marker = demo_marker(ledger)
    if ledger.exists() and not marker.is_file():
        raise SettingsError(
            f"--ledger {ledger} exists and was not made by the demo: refusing to touch it "
            "(give the demo a new path)"
        )
    ledger.unlink(missing_ok=True)
    ledger.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("made by `pullwatch demo`; the demo starts this ledger afresh each run\n")
    settings = load_settings({})
    out = sys.stdout
    store = FileStore(ledger)
    chat = ConsoleNotifier(out, channel="demo-chat")
    verifier = Verifier(SnapshotFile(DEMO_RESOURCES))
    first = (DEMO_EXPORT, DEMO_JOBS, DEMO_ACTIVITY)
    ticks = (
        (
            first,
            "2026-11-29T09:00:00Z",
            "Tick 1: the first read of an hour of system logs and of the Activity Log",
        ),
        (first, "2026-11-29T09:05:00Z", "Tick 2: the same failures again"),
        (
            (DEMO_LATER,),
            "2026-11-29T09:10:00Z",
            "Tick 3: orders-api's missing tag was pushed, the job's registry firewall fixed",
        ),
    )
    print(
        f"pullwatch demo: bundled samples from {SAMPLES.name}/, ledger {ledger}; the "
        f"configuration is checked against {DEMO_RESOURCES.name} (a Resource Graph export)\n"
    )
    for paths, now, title in ticks:
        names = ", ".join(path.name for path in paths)
        print(f"━━━ {title} ({names}, now={now}) ━━━\n", flush=True)
        summary = _tick(
            paths, store, chat, settings.lookback, now, digest_threshold=20, verifier=verifier
        )
        if summary.messages_sent == 0:
            print("(nothing new to say: every failing revision was already reported)\n")
        print(f"    {summary.line()}\n", flush=True)
    return 0


def _tick(
    paths: Sequence[Path],
    store: FileStore,
    chat: ConsoleNotifier,
    lookback: timedelta,
    now: str,
    *,
    digest_threshold: int,
    verifier: Verifier | None = None,
) -> TickSummary:
    return run_tick(
        source=file_sources(paths, lookback),
        store=store,
        notifiers=(chat,),
        policy=Policy(),
        now=parse_now(now),
        context=AlertContext(resource_group="rg-shop-prod", subscription_id=None),
        digest_threshold=digest_threshold,
        enricher=verifier,
    )
