"""``pullwatch doctor``: check a deployment's settings, identity, workspaces, ledger, channels and
Resource Graph access, each with ✔ or ✘, the reason and the fix. Network and disk I/O.

The checks run in order with the settings the Function uses: ``local.settings.json``'s
``Values`` when the file is in the current directory (``--settings FILE`` names another), else
the environment. Each uses the tick's own parts, not copies: ``load_settings``, the credential
of ``make_credential``, ``LogAnalyticsSource`` (the tick's query, then a count of the system-log
tables and ``AzureActivity`` over the last 24 hours), the configured ``LedgerStore`` (held as a
tick holds it, read, written back unchanged), each channel's notifier and ``Delivery`` (with
``--send-test``: a message marked as a test, of which only the HTTP status is reported, never
the URL) and ``ResourceGraphClient`` when the configuration check is on. The exit status is 0
only when every check passed; ``--json`` prints the results as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from notifiers.alert import Alert, AlertKind
from notifiers.delivery import Delivery, RetryPolicy
from notifiers.errors import DeliveryError
from pullwatch.errors import LedgerError, PullwatchError, SettingsError
from pullwatch.health.errors import delivery_error_class, ledger_error_class, query_error_class
from pullwatch.health.fixes import Advice, Context, advice
from pullwatch.ledger.health import PartKind
from pullwatch.ledger.stores import LedgerStore, holding, store_from_settings, where
from pullwatch.settings import ChannelConfig, Settings, load_settings

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from pullwatch.fetch.logquery import LogAnalyticsSource

LOCAL_SETTINGS = Path("local.settings.json")
SYSTEM_TABLES = ("ContainerAppSystemLogs_CL", "ContainerAppSystemLogs")
ACTIVITY_TABLE = "AzureActivity"
STATS_WINDOW = timedelta(hours=24)
RESOURCE_GRAPH_BUDGET = 15.0  # seconds
TEST_TITLE = "pullwatch test message — nothing is wrong"

Mark = str  # "✔", "✘" or "–" (not run)
OK, FAILED, SKIPPED = "✔", "✘", "–"


@dataclass
class Check:
    """One check's result: which part, whether it passed, why, and how to fix it."""

    check: str  # settings, token, workspace, ledger, channel, resource-graph
    part: str  # what exactly: a workspace id, a channel name, the ledger's place
    mark: Mark
    reason: str
    fix: list[str] = field(default_factory=list)  # lines: steps and commands

    @property
    def ok(self) -> bool:
        return self.mark != FAILED


@dataclass(frozen=True)
class Wiring:
    """How doctor reaches Azure: the real clients unless a test hands in fakes (same classes)."""

    credential: TokenCredential | None = None  # default: make_credential(settings)
    source: Callable[[Settings, str, TokenCredential], LogAnalyticsSource] | None = None
    delivery: Callable[[Settings, requests.Session], Delivery] | None = None


# --- settings -----------------------------------------------------------------------------------


def settings_source(path: Path | None) -> tuple[dict[str, str], str]:
    """The settings to check and where they came from: ``local.settings.json``'s ``Values``
    (over the environment) when the file exists, else the environment."""
    file = path or LOCAL_SETTINGS
    if not file.is_file():
        if path is not None:
            raise SettingsError(f"--settings {path}: no such file")
        return dict(os.environ), "the environment"
    try:
        document = json.loads(file.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as error:
        raise SettingsError(f"{file}: not a readable JSON file ({type(error).__name__})") from None
    values = document.get("Values") if isinstance(document, dict) else None
    if not isinstance(values, dict):
        raise SettingsError(f'{file} has no "Values" object')
    return {**os.environ, **{str(k): str(v) for k, v in values.items()}}, str(file)


# --- the checks -----------------------------------------------------------------------------


def run_checks(
    environ: Mapping[str, str],
    *,
    send_test: bool = False,
    wiring: Wiring = Wiring(),
    now: datetime | None = None,
) -> list[Check]:
    """Every check, in order (see the module docstring)."""
    now = now or datetime.now(UTC)
    checks: list[Check] = []
    try:
        settings = load_settings(
            environ, require_workspace=True, require_notifier=True, deployed=True
        )
    except PullwatchError as error:
        checks.append(
            Check(
                "settings",
                "settings",
                FAILED,
                str(error),
                ["Fix the setting it names, then run doctor again"],
            )
        )
        return checks
    checks.append(Check("settings", "", OK, _settings_summary(settings)))
    credential, token = _token(settings, wiring)
    checks.append(token)
    for workspace in settings.workspace_ids:
        checks.append(_workspace(settings, workspace, credential, wiring, now))
    checks.append(_ledger(settings))
    for channel in settings.channels:
        checks.append(_channel(settings, channel, send_test, wiring, now))
    if settings.verify:
        checks.append(_resource_graph(settings, credential))
    return checks


def _settings_summary(settings: Settings) -> str:
    ledger = "blob ledger" if settings.uses_blob_ledger else f"ledger file {settings.ledger_path}"
    channels = ", ".join(f"{c.name} ({c.service})" for c in settings.channels)
    return (
        f"{len(settings.workspace_ids)} workspace(s), {ledger}, channels: {channels}; "
        f"configuration check {'on' if settings.verify else 'off'}"
        + ("; DRY RUN: nothing is posted" if settings.dry_run else "")
    )


def _token(settings: Settings, wiring: Wiring) -> tuple[TokenCredential | None, Check]:
    from pullwatch.fetch.logquery import ExplainedCredential, make_credential

    try:
        credential: TokenCredential = (
            ExplainedCredential(wiring.credential)
            if wiring.credential is not None
            else make_credential(settings)
        )
        parts = urlsplit(settings.logs_endpoint)
        credential.get_token(f"{parts.scheme}://{parts.netloc}/.default")
    except PullwatchError as error:
        return None, Check(
            "token",
            "",
            FAILED,
            str(error),
            [
                "From a terminal: az login (the account needs the roles the Function has)",
                "In Azure: the Function's user-assigned identity, with AZURE_CLIENT_ID set to "
                "its client id",
            ],
        )
    except Exception as error:  # the SDK's own errors: never their text (it can be long)
        return None, Check("token", "", FAILED, type(error).__name__)
    return credential, Check(
        "token",
        "",
        OK,
        f"{_credential_name(credential)} got a token for Log Analytics",
    )


def _credential_name(credential: Any) -> str:
    """The credential that worked: DefaultAzureCredential's link in the chain when it says."""
    inner = getattr(credential, "_inner", credential)
    chosen = getattr(inner, "_successful_credential", None)
    return type(chosen or inner).__name__


def _workspace(
    settings: Settings,
    workspace: str,
    credential: TokenCredential | None,
    wiring: Wiring,
    now: datetime,
) -> Check:
    if credential is None:
        return Check("workspace", workspace, SKIPPED, "not run: no token")
    from pullwatch.fetch.kql import kql_datetime
    from pullwatch.fetch.logquery import LogAnalyticsSource

    if wiring.source is not None:
        source = wiring.source(settings, workspace, credential)
    else:
        source = LogAnalyticsSource.from_settings(
            settings, credential=credential, workspace_ids=(workspace,)
        )
    try:
        result = source.fetch(now=now)  # the tick's own query
        problem = next((w.error for w in result.workspaces if w.error), None)
    except PullwatchError as error:
        problem = str(error)
    if problem is not None:
        found = advice(
            PartKind.WORKSPACE, query_error_class(problem), _context(settings, workspace)
        )
        return Check("workspace", workspace, FAILED, problem, _lines(found))
    try:
        counts = _table_counts(source, workspace, now - STATS_WINDOW, kql_datetime)
    except Exception as error:
        return Check(
            "workspace",
            workspace,
            FAILED,
            f"the tick's query answered, counting the tables failed ({type(error).__name__})",
        )
    described = "; ".join(
        f"{table}: {_rows(counts.get(table))}" for table in (*SYSTEM_TABLES, ACTIVITY_TABLE)
    )
    answered = (
        f"answered ({result.rows_matched} matching rows in the lookback); last 24 h: {described}"
    )
    if not any(counts.get(table, (0, None))[0] for table in SYSTEM_TABLES):
        found = advice(PartKind.LOGS, "no system logs", _context(settings, workspace))
        return Check(
            "workspace",
            workspace,
            FAILED,
            f"{answered} — no Container Apps system logs in 24 hours: {found.meaning}",
            _lines(found),
        )
    return Check("workspace", workspace, OK, answered)


def _table_counts(
    source: LogAnalyticsSource,
    workspace: str,
    since: datetime,
    kql_datetime: Callable[[datetime], str],
) -> dict[str, tuple[int, datetime | None]]:
    """Rows and newest row per table of the last 24 hours (a missing table is left out)."""
    legs = ",\n".join(
        f"    ({table} | where TimeGenerated > since | summarize Rows = count(), "
        f'Last = max(TimeGenerated) | extend Table = "{table}")'
        for table in (*SYSTEM_TABLES, ACTIVITY_TABLE)
    )
    query = (
        f"let since = {kql_datetime(since)};\nunion isfuzzy=true\n{legs}\n"
        "| project Table, Rows, Last\n"
    )
    answer = source.client.query_workspace(
        workspace, query, timespan=None, server_timeout=60, **source.query_options
    )
    tables = getattr(answer, "tables", None) or getattr(answer, "partial_data", None) or []
    counts: dict[str, tuple[int, datetime | None]] = {}
    for table in tables[:1]:
        for row in table.rows:
            name, rows, last = row[0], row[1], row[2]
            counts[str(name)] = (int(rows or 0), last if isinstance(last, datetime) else None)
    return counts


def _rows(count: tuple[int, datetime | None] | None) -> str:
    if count is None:
        return "not in the workspace (or not readable)"
    rows, last = count
    if not rows:
        return "no rows"
    return (
        f"{rows} rows, newest {last.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if last else f"{rows} rows"
    )


def _ledger(settings: Settings) -> Check:
    try:
        store: LedgerStore = store_from_settings(settings)
    except PullwatchError as error:
        return Check("ledger", "ledger", FAILED, str(error))
    place = where(store)
    leased = "leased" if settings.uses_blob_ledger else "locked"
    try:
        with holding(store):
            ledger, version = store.load()
            store.save(ledger, version)  # written back unchanged
    except LedgerError as error:
        found = advice(PartKind.LEDGER, ledger_error_class(error), Context("ledger", ledger=place))
        return Check("ledger", place, FAILED, str(error), _lines(found))
    state = (
        "created (it did not exist yet)"
        if version is None
        else f"{len(ledger.entries)} revisions, {len(ledger.outbox)} notifications owed, "
        f"{len(ledger.dead_letters)} dead letters"
    )
    return Check("ledger", place, OK, f"read, written and {leased}: {state}")


def _channel(
    settings: Settings, channel: ChannelConfig, send_test: bool, wiring: Wiring, now: datetime
) -> Check:
    part = f"{channel.name} ({channel.service})"
    if not send_test:
        return Check("channel", part, OK, "well-formed (no message sent; --send-test sends one)")
    if channel.service == "pagerduty":
        return Check(
            "channel",
            part,
            OK,
            "well-formed; no test event sent: it would page someone (PagerDuty's service page "
            "sends test events)",
        )
    if settings.dry_run:
        return Check("channel", part, OK, "well-formed; no test message in a dry run")
    from pullwatch.tick.runtime import build_notifier

    session = requests.Session()
    statuses: list[int] = []
    session.hooks["response"].append(
        lambda response, *a, **k: statuses.append(response.status_code)
    )
    if wiring.delivery is not None:
        delivery = wiring.delivery(settings, session)
    else:
        budget = min(settings.send_budget.total_seconds(), 30.0)
        delivery = Delivery(RetryPolicy(budget=budget), session=session)
    notifier = build_notifier(channel, delivery)
    try:
        notifier.send(notifier.render(marked_test_message(channel.name, now)))
    except DeliveryError as error:
        error_class = delivery_error_class(str(error))
        found = advice(
            PartKind.CHANNEL, error_class, Context(channel.name, service=channel.service)
        )
        return Check(
            "channel",
            part,
            FAILED,
            f"the test message was not accepted: {error_class} — {found.meaning}",
            _lines(found),
        )
    status = f"HTTP {statuses[-1]}" if statuses else "accepted"
    return Check("channel", part, OK, f"the test message was accepted ({status})")


def marked_test_message(channel: str, now: datetime) -> Alert:
    """The message ``--send-test`` posts: plainly a test, about pullwatch, nothing to do."""
    return Alert(
        kind=AlertKind.HEALTH_RECOVERED,
        environment="pullwatch",
        app="channel",
        revision=channel,
        cause="channel-test",
        cause_title=TEST_TITLE,
        summary=(
            f"A test from `python -m pullwatch doctor --send-test` on {socket.gethostname()} at "
            f"{now.astimezone(UTC):%Y-%m-%d %H:%M} UTC: pullwatch can post to channel {channel}. "
            "No action needed."
        ),
        facts=(("Channel", channel), ("Sent by", "python -m pullwatch doctor --send-test")),
        reason="test",
        extra={"test": "true"},
    )


def _resource_graph(settings: Settings, credential: TokenCredential | None) -> Check:
    part = ""
    if credential is None:
        return Check("resource-graph", part, SKIPPED, "not run: no token")
    from pullwatch.verify.graph import ResourceGraphClient

    client = ResourceGraphClient(settings.arm_endpoint, credential)
    try:
        rows = client.query(
            "resources | where type =~ 'microsoft.app/containerapps' | take 1",
            deadline=time.monotonic() + RESOURCE_GRAPH_BUDGET,
        )
    except PullwatchError as error:
        return Check(
            "resource-graph",
            part,
            FAILED,
            str(error),
            [
                "Give the Function's identity Reader on the resource groups of the apps, "
                "registries, VNets and DNS zones, or set PULLWATCH_VERIFY=false"
            ],
        )
    finally:
        client.close()
    seen = "a container app is visible" if rows else "answered, but no container app is visible"
    return Check("resource-graph", part, OK, f"{seen} (the configuration check is on)")


def _context(settings: Settings, workspace: str) -> Context:
    return Context(
        workspace,
        client_id=settings.azure_client_id,
        workspace_resource_id=settings.workspace_resource_id,
        resource_group=settings.resource_group,
    )


def _lines(found: Advice) -> list[str]:
    lines = []
    for step in found.steps:
        lines.append(step.text)
        if step.command:
            lines.append(f"$ {step.command}")
    return lines


# --- output ------------------------------------------------------------------------------------


def render(checks: list[Check], source: str) -> Iterator[str]:
    yield f"pullwatch doctor (settings from {source})"
    for check in checks:
        label = f"{check.check} {check.part}" if check.part else check.check
        yield f"{check.mark} {label}: {check.reason}"
        for line in check.fix:
            yield f"    {line}"
    failed = [c for c in checks if not c.ok]
    if failed:
        names = ", ".join(f"{c.check} {c.part}".strip() for c in failed)
        yield f"{len(failed)} problem(s): {names}"
    else:
        yield "all checks passed"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check settings, identity, workspaces, ledger, channels and Resource Graph access",
        description=(
            "Check a deployment with the Function's settings (local.settings.json's Values when "
            "present, else the environment): each check with ✔ or ✘, the reason and the fix. "
            "Exit status 0 only when all pass."
        ),
    )
    parser.add_argument(
        "--send-test",
        action="store_true",
        help="post a message marked as a test to each chat channel and report the HTTP status",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--settings",
        metavar="FILE",
        type=Path,
        help="a local.settings.json to read (default: ./local.settings.json, else the environment)",
    )
    parser.set_defaults(func=run_doctor)


def run_doctor(args: argparse.Namespace, *, wiring: Wiring = Wiring()) -> int:
    environ, source = settings_source(args.settings)
    checks = run_checks(environ, send_test=args.send_test, wiring=wiring)
    if args.json:
        document = {
            "ok": all(c.ok for c in checks),
            "settings_from": source,
            "checks": [{**asdict(c), "ok": c.ok} for c in checks],
        }
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    else:
        for line in render(checks, source):
            print(line)
    return 0 if all(c.ok for c in checks) else 1
