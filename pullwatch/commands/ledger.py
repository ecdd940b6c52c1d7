"""``pullwatch ledger show`` and ``pullwatch silence add|list|remove``: the alert ledger from the
terminal. Reads and writes the configured store (the blob when one is configured, else the local
file; ``--ledger PATH`` forces a file)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from classifiers import Cause
from notifiers.base import CHANNEL_NAME_RULE, check_channel
from pullwatch.durations import format_duration, parse_duration
from pullwatch.errors import LedgerError
from pullwatch.health.errors import delivery_error_class
from pullwatch.health.logs import quiet_environments
from pullwatch.ledger import (
    DeliveryState,
    EntryState,
    ImageState,
    Ledger,
    Silence,
    add_silence,
    drop_expired_silences,
    pending,
    remove_silence,
)
from pullwatch.ledger.routed import ChannelRecord
from pullwatch.ledger.stores import LedgerStore, store_from_settings, update_ledger
from pullwatch.settings import Settings, load_settings


def register(subparsers: Any) -> None:
    ledger = subparsers.add_parser(
        "ledger",
        help="show the alert ledger (revisions, silences, undelivered alerts)",
        description="Show what pullwatch remembers: one entry per revision, silences, outbox.",
    )
    ledger_commands = ledger.add_subparsers(dest="ledger_command", metavar="ACTION", required=True)
    show = ledger_commands.add_parser("show", help="print the ledger")
    show.add_argument("--json", action="store_true", help="print the stored JSON document")
    show.add_argument(
        "--firing",
        action="store_true",
        help="only the revisions failing now, one line each (what a digest could not list)",
    )
    _store_option(show)
    show.set_defaults(func=run_show)

    silence = subparsers.add_parser(
        "silence",
        help="mute alerts for matching revisions for a while",
        description="Silences mute notifications for matching revisions until they expire.",
    )
    silence_commands = silence.add_subparsers(
        dest="silence_command", metavar="ACTION", required=True
    )
    add = silence_commands.add_parser("add", help="add a silence")
    what = add.add_mutually_exclusive_group(required=True)
    what.add_argument("--app", help="Container App name glob, e.g. 'orders-*'")
    what.add_argument("--job", help="Container Apps job name glob, e.g. 'nightly-*'")
    add.add_argument("--revision", default="*", help="revision name glob (default: any)")
    add.add_argument("--environment", default="*", help="environment name glob (default: any)")
    add.add_argument(
        "--cause",
        choices=[cause.value for cause in Cause],
        metavar="ID",
        help="only this cause id, e.g. registry-unauthorized (see the README's cause table)",
    )
    add.add_argument(
        "--channel",
        metavar="NAME",
        help="mute only this channel (a name such as orders-teams; default: every channel)",
    )
    add.add_argument("--for", dest="duration", required=True, help="how long, e.g. 2h, 1d")
    add.add_argument("--comment", required=True, help="why (shown in `silence list`)")
    _store_option(add)
    add.set_defaults(func=run_silence_add)

    listing = silence_commands.add_parser("list", help="list active silences")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    _store_option(listing)
    listing.set_defaults(func=run_silence_list)

    remove = silence_commands.add_parser("remove", help="remove a silence by id")
    remove.add_argument("silence_id", metavar="ID", help="the id shown by `silence list`")
    _store_option(remove)
    remove.set_defaults(func=run_silence_remove)


def _store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ledger",
        metavar="PATH",
        help="use this ledger file instead of the configured store",
    )


def open_store(args: argparse.Namespace) -> LedgerStore:
    settings = load_settings(os.environ)
    return store_from_settings(settings, path=args.ledger)


def _now() -> datetime:
    return datetime.now(UTC)


def run_show(args: argparse.Namespace) -> int:
    settings = load_settings(os.environ)
    ledger, _ = store_from_settings(settings, path=args.ledger).load()
    if args.json:
        sys.stdout.write(ledger.to_json())
    elif args.firing:
        sys.stdout.write(render_firing(ledger))
    else:
        now = _now()
        sys.stdout.write(render_ledger(ledger, now, settings.quiet_period))
        sys.stdout.write(render_health(ledger, now, no_logs_after=settings.no_logs_after))
    return 0


def glob_problem(pattern: str) -> str | None:
    """Why ``pattern`` is no usable name glob (``fnmatch``), or None when it is one."""
    if not pattern.strip():
        return "must not be empty (use '*' for any)"
    if len(pattern) > 260:
        return "is longer than 260 characters"
    if any(ch.isspace() or not ch.isprintable() for ch in pattern):
        return f"{pattern[:60]!r} holds spaces or control characters, which no name has"
    position = 0
    while position < len(pattern):
        if pattern[position] == "[":
            close = pattern.find("]", position + 2)  # "[]]" holds a literal ]
            if close < 0:
                return f"{pattern[:60]!r} has a '[' that is never closed (use [[] for a literal [)"
            position = close
        position += 1
    return None


def run_silence_add(args: argparse.Namespace) -> int:
    for option, pattern in (
        (
            "--job" if args.job is not None else "--app",
            args.job if args.job is not None else args.app,
        ),
        ("--revision", args.revision),
        ("--environment", args.environment),
    ):
        problem = glob_problem(pattern)
        if problem:
            print(f"pullwatch: error: {option} {problem}", file=sys.stderr)
            return 2
    try:
        duration = parse_duration(args.duration)
    except ValueError as error:
        print(f"pullwatch: error: --for: {error}", file=sys.stderr)
        return 2
    if not args.comment.strip():
        print("pullwatch: error: --comment must say why", file=sys.stderr)
        return 2
    if duration.total_seconds() <= 0:
        print("pullwatch: error: --for must be longer than zero", file=sys.stderr)
        return 2
    channel = _checked_channel(args.channel)
    if channel is not None and not channel:
        return 2
    now = _now()
    added: list[Silence] = []

    def change(ledger: Ledger) -> Ledger:
        added.clear()
        silence, changed = add_silence(
            drop_expired_silences(ledger, now),
            app=args.app if args.job is None else "",
            job=args.job or "",
            revision=args.revision,
            environment=args.environment,
            cause=args.cause,
            channel=channel,
            expires=now + duration,
            comment=args.comment,
            now=now,
        )
        added.append(silence)
        return changed

    update_ledger(open_store(args), change)
    silence = added[0]
    print(f"{silence.id}\t{silence.describe()}\tuntil {_time(silence.expires)}")
    return 0


def _checked_channel(name: str | None) -> str | None:
    """The ``--channel`` name, or "" after printing why it is refused (unknown or malformed)."""
    if name is None:
        return None
    try:
        check_channel(name)
    except ValueError:
        print(f"pullwatch: error: --channel {CHANNEL_NAME_RULE}", file=sys.stderr)
        return ""
    configured = [c.name for c in load_settings(os.environ).channels]
    if configured and name not in configured:
        print(
            f"pullwatch: error: --channel {name!r} is not a configured channel "
            f"(configured: {', '.join(configured)})",
            file=sys.stderr,
        )
        return ""
    return name


def run_silence_list(args: argparse.Namespace) -> int:
    ledger, _ = open_store(args).load()
    now = _now()
    silences = [s for s in ledger.silences if s.active(now)]
    if args.json:
        for silence in silences:
            sys.stdout.write(json.dumps(silence.to_dict(), ensure_ascii=False) + "\n")
        return 0
    if not silences:
        print("no active silences")
        return 0
    for silence in silences:
        print(_silence_line(silence, now))
    return 0


def run_silence_remove(args: argparse.Namespace) -> int:
    def change(ledger: Ledger) -> Ledger:
        try:
            return remove_silence(ledger, args.silence_id)
        except KeyError:
            raise LedgerError(f"no silence with id {args.silence_id!r}") from None

    update_ledger(open_store(args), change)
    print(f"removed {args.silence_id}")
    return 0


def render_ledger(ledger: Ledger, now: datetime, quiet_period: timedelta | None = None) -> str:
    """A terminal summary of the ledger. ``quiet_period``: the setting's (default 30m); an
    environment whose newest log was older than that at the last tick has "no logs since"."""
    quiet = quiet_period if quiet_period is not None else Settings().quiet_period
    marks = ledger.watermark_map()
    if len(marks) <= 1:
        lines = [f"watermark: {_time(next(iter(marks.values()), None))}"]
    else:
        lines = ["watermarks:"]
        lines.extend(f"  {ws}  {_time(mark)}" for ws, mark in sorted(marks.items()))
    if ledger.environments:
        lines.append("environments (newest system-log row seen by the last tick):")
        last_tick = ledger.last_tick or now
        for name, logs in sorted(ledger.environments.items()):
            stale = last_tick - logs.last_row >= quiet
            lines.append(
                f"  {name}  {_time(logs.last_row)}  {logs.table}"
                + (f"  no logs since {_time(logs.last_row)}" if stale else "")
            )
    lines.append(f"revisions: {len(ledger.entries)}")
    for key in sorted(ledger.entries):
        entry = ledger.entries[key]
        lines.append(
            f"  {key}  {entry.state.value}  {entry.evidence.cause}  x{entry.count}  "
            f"first {_time(entry.first_seen)}  last {_time(entry.last_seen)}  "
            f"notified {_time(entry.notified_at)}"
            + (f"  silenced by {entry.silenced_by}" if entry.silenced_by else "")
            + (f"  resolved {_time(entry.resolved_at)}" if entry.resolved_at else "")
        )
        if entry.channels and entry.state is not EntryState.RESOLVED:
            lines.append(f"      routed: {routing_line(entry.channels)}")
        if entry.state is not EntryState.RESOLVED:
            counted = "refused deployments" if entry.deployment else "pull attempts"
            lines.extend(f"      {image_line(image, counted)}" for image in entry.images)
    active = [s for s in ledger.silences if s.active(now)]
    lines.append(f"silences: {len(active)}")
    lines.extend(f"  {_silence_line(s, now)}" for s in active)
    queued = pending(ledger)
    lines.append(f"undelivered notifications: {len(queued)}")
    for notification in queued:
        backing_off = [
            f"{d.channel} not before {_time(d.not_before)}"
            for d in notification.deliveries
            if d.pending and d.not_before is not None and d.not_before > now
        ]
        lines.append(
            f"  {notification.id}  {notification.alert.kind.value}  {notification.key}  "
            f"pending on {', '.join(notification.channels)}  since {_time(notification.created)}"
            + (f"  (backing off: {'; '.join(backing_off)})" if backing_off else "")
        )
    lines.append(f"dead letters: {len(ledger.dead_letters)}")
    for notification in ledger.dead_letters:
        for delivery in notification.deliveries:
            if delivery.state is not DeliveryState.DEAD:
                continue
            lines.append(
                f"  {notification.id}  {notification.alert.kind.value}  {notification.key}  "
                f"on {delivery.channel}: given up {_time(delivery.done_at)} after "
                f"{delivery.attempts} attempt(s); last error: {delivery.last_error or '-'}"
            )
    return "\n".join(_printable(line) for line in lines) + "\n"


def image_line(image: ImageState, counted: str = "pull attempts") -> str:
    """``image acr.io/app:1 (container app): failing, 12 pull attempts, last failure 08:58Z``."""
    name = image.image or "(image not named in the logs)"
    container = f" (container {image.container})" if image.container else ""
    if image.failing:
        state = (
            f"failing ({image.cause}), {image.attempts} {counted}, "
            f"last failure {_time(image.last_failure)}"
        )
    elif image.failed:
        state = f"recovered at {_time(image.last_success)}"
    else:
        state = f"pulled or started at {_time(image.last_success)}"
    return f"image {name}{container}: {state}"


def render_health(ledger: Ledger, now: datetime, *, no_logs_after: timedelta) -> str:
    """The health section: the last successful tick, failing parts since when, dead letters,
    environments that sent no system logs for ``no_logs_after``."""
    health = ledger.health
    ago = f" ({format_duration(now - health.last_success)} ago)" if health.last_success else ""
    lines = ["health:", f"  last successful tick: {_time(health.last_success)}{ago}"]
    failing = health.failing()
    lines.append(f"  failing parts: {len(failing)}")
    for part in failing:
        service = f" ({part.service})" if part.service else ""
        told = f", told {_time(part.announced_at)}" if part.announced_at else ", not told yet"
        lines.append(
            f"    {part.kind.value} {part.name}{service}  since {_time(part.since)}  "
            f"{part.failures} tick(s)  last error {part.last_error or '-'}{told}"
        )
    lines.append(f"  dead letters: {len(ledger.dead_letters)}")
    for notification in ledger.dead_letters:
        for delivery in notification.deliveries:
            if delivery.state is DeliveryState.DEAD:
                lines.append(
                    f"    {notification.id}  {notification.alert.kind.value}  {notification.key}"
                    f"  on {delivery.channel}  {_time(delivery.done_at)}  after "
                    f"{delivery.attempts} attempt(s): "
                    f"{delivery_error_class(delivery.last_error or '')}"
                )
    quiet = quiet_environments(ledger.environments, now, no_logs_after)
    lines.append(
        f"  environments with no system logs for {format_duration(no_logs_after)}: {len(quiet)}"
        f" (of {len(ledger.environments)} seen)"
    )
    for name, logs in quiet:
        lines.append(
            f"    {name} (workspace {logs.workspace or '-'})  last row "
            f"{_time(logs.last_row)} in {logs.table or '-'}"
        )
    return "\n".join(_printable(line) for line in lines) + "\n"


def routing_line(records: tuple[ChannelRecord, ...]) -> str:
    """``orders-teams via routes[1] (told 09:00:00Z), data-teams via default route (silenced
    by s2)``: where a revision's notifications went, and why."""
    parts = []
    for record in records:
        if record.silenced_by:
            state = f"silenced by {record.silenced_by}"
        elif record.told:
            state = f"told {_time(record.at)}"
        else:
            state = "not told"
        parts.append(f"{record.channel} via {record.via} ({state})")
    return ", ".join(parts)


def render_firing(ledger: Ledger) -> str:
    """One line per firing revision, by cause: the full list behind a digest."""
    firing = [e for e in ledger.entries.values() if e.state is EntryState.FIRING]
    if not firing:
        return "no firing revisions\n"
    lines = []
    for entry in sorted(firing, key=lambda e: (e.evidence.cause, e.key)):
        name = entry.app or (f"job {entry.job}" if entry.job else "-")
        revision = entry.revision or (
            f"deployment by {entry.deployment.caller or 'unknown'}" if entry.deployment else "-"
        )
        lines.append(
            f"{entry.evidence.cause}\t{entry.environment or '-'}\t{name}\t{revision}\t"
            f"x{entry.count}\tfirst {_time(entry.first_seen)}\tlast {_time(entry.last_seen)}"
            f"\t{entry.evidence.image or '-'}"
        )
    return "\n".join(_printable(line) for line in lines) + "\n"


def _silence_line(silence: Silence, now: datetime) -> str:
    left = format_duration(silence.expires - now)
    return _printable(
        f"{silence.id}\t{silence.describe()}\tuntil {_time(silence.expires)} ({left} left)\t"
        f"{silence.comment}"
    )


def _time(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if value else "-"


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() or ch == "\t" else "?" for ch in text)
