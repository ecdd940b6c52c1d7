"""Failures that never reach the system logs (deployments Azure refused, from the Activity Log)
and Container Apps jobs (issue 16), tick by tick with real parts: the bundled samples read by
the real ``FileSource`` or by the fake Log Analytics endpoint (real client, duckdb-kql), the real
``FileStore`` ledger, a recording channel and the dry-run printer."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from notifiers.console import DryRunNotifier
from pullwatch.commands.main import main
from pullwatch.decide import Policy
from pullwatch.fetch.activity import ACTIVITY_TABLE
from pullwatch.fetch.filesource import FileSource, FileSources
from pullwatch.fetch.records import FailureSource
from pullwatch.ledger import EntryState, Ledger
from pullwatch.ledger.stores import FileStore
from pullwatch.settings import ActivityMode, TableMode
from pullwatch.tick.pipeline import TickSummary, run_tick
from tests.fakes.loganalytics import INGESTION_COLUMN, FakeLogAnalytics, export_rows
from tests.pipeline.doubles import RecordingNotifier

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
ACTIVITY = SAMPLES / "azure-activity.json"
JOBS = SAMPLES / "job-system-logs.json"
LATER = SAMPLES / "demo-recovery.json"
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
HOUR = timedelta(minutes=60)
SHIPPING = "deployment/rg-shop-prod/shipping/acrpullwatchprod.azurecr.io/shipping:5.3.0"
NIGHTLY = (
    "deployment/rg-shop-prod/job:nightly-reports/"
    "acrpullwatchprod.azurecr.io/nightly-reports:2026.11.29"
)
INVOICE = "cae-prod-weu/job/invoice-export"


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.store = FileStore(tmp_path / "ledger.json")
        self.chat = RecordingNotifier("teams-1")

    def tick(self, source: FailureSource, now: datetime = NOW) -> TickSummary:
        return run_tick(
            source=source, store=self.store, notifiers=[self.chat], policy=Policy(), now=now
        )

    def files(self, *paths: Path) -> FileSource | FileSources:
        sources = [FileSource(path, HOUR) for path in paths]
        return sources[0] if len(sources) == 1 else FileSources(sources)

    def write(self, name: str, rows: Sequence[dict[str, Any]]) -> Path:
        path = self.tmp / name
        path.write_text(json.dumps(list(rows)), encoding="utf-8")
        return path

    @property
    def ledger(self) -> Ledger:
        return self.store.load()[0]

    def told(self) -> list[tuple[str, str]]:
        return [(a.key, a.kind.value) for a in self.chat.alerts]


def activity_rows() -> list[dict[str, Any]]:
    return [copy.deepcopy(r) for r in export_rows(ACTIVITY)]


def a_later_write(resource: str, minute: int) -> dict[str, Any]:
    """A successful write of ``resource`` (its ResourceId's last segment) at 09:<minute>."""
    [template] = [
        r
        for r in activity_rows()
        if r["ResourceId"].endswith(f"/{resource.upper()}") and r["ActivityStatusValue"] == "Start"
    ]
    when = f"2026-11-29T09:{minute:02d}:00Z"
    return {**template, "TimeGenerated": when, "ActivityStatusValue": "Success"}


# --- deployments Azure refused ---------------------------------------------------------------


def test_a_refused_deployment_alerts_once_with_who_deployed(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.tick(world.files(ACTIVITY))
    world.tick(world.files(ACTIVITY), NOW + timedelta(minutes=5))
    alerts = {a.key: a for a in world.chat.alerts}
    assert sorted(alerts) == sorted(
        [SHIPPING, NIGHTLY, "deployment/rg-shop-stage/catalog-web/acrstage.azurecr.io/catalog-web:2.1.0"]
    )  # fmt: skip
    assert len(world.chat.alerts) == 3  # the second tick re-read the same rows: nothing new
    shipping = alerts[SHIPPING]
    assert shipping.deployment is not None
    assert shipping.deployment.caller == "dana.fischer@contoso.com"
    assert (shipping.app, shipping.revision, shipping.image) == (
        "shipping",
        "",
        "acrpullwatchprod.azurecr.io/shipping:5.3.0",
    )
    assert shipping.cause == "registry-unauthorized"
    assert "deployment of acrpullwatchprod.azurecr.io/shipping:5.3.0 to shipping by dana" in (
        shipping.where_text
    )
    assert not any("<revision>" in (s.command or "") for s in shipping.steps)
    assert shipping.steps[-1].text.startswith("Deploy again")
    nightly = alerts[NIGHTLY]
    assert nightly.job == "nightly-reports" and nightly.app == ""
    assert any("az containerapp job registry set" in (s.command or "") for s in nightly.steps)


def test_a_later_successful_write_resolves_the_deployment(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.tick(world.files(ACTIVITY))
    again = world.write("later.json", [*activity_rows(), a_later_write("shipping", 3)])
    world.tick(world.files(again), NOW + timedelta(minutes=5))
    resolved = [a for a in world.chat.alerts if a.kind.value == "resolved"]
    assert [a.key for a in resolved] == [SHIPPING]
    assert "a later deployment of shipping succeeded at 2026-11-29 09:03:00Z" in (
        resolved[0].resolution or ""
    )
    assert world.ledger.entries[NIGHTLY].state is EntryState.FIRING


def test_the_app_pulling_that_image_resolves_the_deployment(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.tick(world.files(ACTIVITY))
    pulled = world.write(
        "pulled.json",
        [
            {
                "TimeGenerated": "2026-11-29T09:04:00Z",
                "EnvironmentName": "cae-prod-weu",
                "ContainerAppName": "shipping",
                "RevisionName": "shipping--0000032",
                "ReplicaName": "shipping--0000032-6c7d8e9f0-ab12c",
                "Reason": "PulledImage",
                "Log": "Successfully pulled image 'acrpullwatchprod.azurecr.io/shipping:5.3.0' in 2s",
            }
        ],
    )
    world.tick(world.files(ACTIVITY, pulled), NOW + timedelta(minutes=5))
    [resolved] = [a for a in world.chat.alerts if a.kind.value == "resolved"]
    assert resolved.key == SHIPPING
    assert "shipping pulled acrpullwatchprod.azurecr.io/shipping:5.3.0" in (
        resolved.resolution or ""
    )


def test_unreadable_activity_rows_are_skipped_and_counted(tmp_path: Path) -> None:
    world = World(tmp_path)
    rows = activity_rows()
    failed = {
        r["ResourceId"].rsplit("/", 1)[-1]: r
        for r in rows
        if r["ActivityStatusValue"] in ("Failure", "Failed")
    }
    for row in rows:  # every failed row of shipping's deployment: not JSON
        if row["ResourceId"].endswith("/SHIPPING") and row["ActivityStatusValue"] != "Start":
            row["Properties_d"] = "{not json"
    failed["CATALOG-WEB"]["Properties_d"] = json.dumps({"statusMessage": "x" * 200_000})
    path = world.write("broken.json", rows)
    summary = world.tick(world.files(path))
    # the sample's own row without properties, and these two
    assert summary.activity_skipped == 3
    assert "1 refused deployments, 3 rows skipped as unreadable" in summary.line()
    assert [key for key, _ in world.told()] == [NIGHTLY]  # the rest is read as before


# --- the Activity Log through Log Analytics ---------------------------------------------------


def test_the_activity_log_part_through_the_fake_endpoint(
    tmp_path: Path, log_analytics: FakeLogAnalytics
) -> None:
    world = World(tmp_path)
    log_analytics.load_export(ACTIVITY)
    log_analytics.load_rows(TableMode.RESOURCE.value, [])
    source = log_analytics.source(TableMode.RESOURCE, activity_log=ActivityMode.AUTO)
    summary = world.tick(source)
    assert summary.deployments == 3 and summary.activity_skipped == 1
    assert {key for key, _ in world.told()} >= {SHIPPING, NIGHTLY}
    assert len(log_analytics.requests) == 2  # the system logs, then the Activity Log
    # the watermark moved past the Activity Log rows too; the overlap reads them again, once
    world.tick(source, NOW + timedelta(minutes=5))
    assert len(world.chat.alerts) == 3


def test_a_workspace_without_azureactivity_is_no_error(
    tmp_path: Path, log_analytics: FakeLogAnalytics
) -> None:
    world = World(tmp_path)
    log_analytics.load_export(JOBS)  # only ContainerAppSystemLogs_CL
    source = log_analytics.source(TableMode.LEGACY, activity_log=ActivityMode.AUTO)
    summary = world.tick(source)
    assert summary.workspaces_failed == [] and not summary.partial
    assert world.told() == [(INVOICE, "firing")]


def test_activity_log_off_sends_no_second_query(log_analytics: FakeLogAnalytics) -> None:
    log_analytics.load_export(ACTIVITY)
    log_analytics.load_rows(TableMode.RESOURCE.value, [])
    result = log_analytics.source(TableMode.RESOURCE).fetch(now=NOW)
    assert result.deployments == () and len(log_analytics.requests) == 1
    assert ACTIVITY_TABLE not in log_analytics.requests[0].query


def test_a_late_activity_row_is_read_in_the_overlap(log_analytics: FakeLogAnalytics) -> None:
    rows = activity_rows()
    for row in rows:  # became queryable late, stamped before the watermark
        row[INGESTION_COLUMN] = "2026-11-29T08:30:00Z"
    log_analytics.load_rows(ACTIVITY_TABLE, rows)
    log_analytics.load_rows(TableMode.RESOURCE.value, [])
    source = log_analytics.source(TableMode.RESOURCE, activity_log=ActivityMode.AUTO)
    result = source.fetch(watermarks={"*": datetime(2026, 11, 29, 8, 55, tzinfo=UTC)}, now=NOW)
    assert {d.name for d in result.deployments} >= {"shipping", "nightly-reports"}


# --- jobs --------------------------------------------------------------------------------------


def test_a_job_alerts_with_its_executions_and_job_commands(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.tick(world.files(JOBS))
    [alert] = world.chat.alerts
    assert (alert.key, alert.job, alert.app, alert.revision) == (
        INVOICE,
        "invoice-export",
        "",
        "",
    )
    assert alert.executions == ("invoice-export-q4w7n2c", "invoice-export-h8d3m5t")
    commands = [s.command or "" for s in alert.steps]
    assert any(c.startswith("az containerapp job start --name invoice-export") for c in commands)
    assert not any("revision restart" in c for c in commands)


def test_a_later_execution_that_pulls_resolves_the_job(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.tick(world.files(JOBS))
    world.tick(world.files(LATER), NOW + timedelta(minutes=10))
    told = [(key, kind) for key, kind in world.told() if key == INVOICE]
    assert told == [(INVOICE, "firing"), (INVOICE, "resolved")]


def test_a_job_silence_mutes_the_job_and_not_the_apps(tmp_path: Path) -> None:
    world = World(tmp_path)
    ledger = world.tmp / "ledger.json"
    argv = ["silence", "add", "--job", "invoice-*", "--for", "365d", "--comment", "vendor fix"]
    assert main([*argv, "--ledger", str(ledger)]) == 0
    [silence] = world.ledger.silences
    assert silence.job == "invoice-*" and "job=invoice-*" in silence.describe()
    summary = world.tick(world.files(JOBS, ACTIVITY))
    assert INVOICE not in {key for key, _ in world.told()}  # muted
    assert summary.decisions["silenced"] == 1 and world.chat.alerts  # the rest is told


def test_dry_run_lines_of_a_deployment_and_a_job(tmp_path: Path) -> None:
    out = io.StringIO()
    printer = DryRunNotifier(lambda line: out.write(line + "\n"))
    run_tick(
        source=FileSources([FileSource(JOBS, HOUR), FileSource(ACTIVITY, HOUR)]),
        store=FileStore(tmp_path / "ledger.json"),
        notifiers=[printer],
        policy=Policy(),
        now=NOW,
    )
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    job = next(line for line in lines if line.get("job") == "invoice-export")
    assert (job["kind"], job["revision"], job["app"]) == ("firing", "", "")
    deployment = next(line for line in lines if line["app"] == "shipping")
    assert (deployment["kind"], deployment["revision"], deployment["image"]) == (
        "firing",
        "",
        "acrpullwatchprod.azurecr.io/shipping:5.3.0",
    )
    assert deployment["deployed_by"] == "dana.fischer@contoso.com"


@pytest.mark.parametrize("order", [(JOBS, ACTIVITY), (ACTIVITY, JOBS)])
def test_scan_reads_an_activity_export_alone_or_with_system_logs(
    order: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["scan", "--now", "2026-11-29T09:00:00Z"]
    for path in order:
        argv += ["--from-file", str(path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "job invoice-export" in out and "deployment by dana.fischer@contoso.com" in out
    assert main(["scan", "--from-file", str(ACTIVITY), "--now", "2026-11-29T09:00:00Z"]) == 0
    alone = capsys.readouterr().out
    assert "shipping" in alone and "invoice-export" not in alone
