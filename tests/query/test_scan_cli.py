"""``python -m pullwatch scan`` and ``query``: output lines, JSON, and the missing-source error."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from classifiers.signals import row_kind
from pullwatch.commands.main import main
from pullwatch.fetch.filesource import FileSource
from tests.fakes.loganalytics import export_rows
from tests.query.conftest import LEGACY_SAMPLE, RESOURCE_SAMPLE, KustoChecker

CLEAN_ENV = ("PULLWATCH_WORKSPACE_IDS", "PULLWATCH_TABLE", "PULLWATCH_LOOKBACK")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CLEAN_ENV:
        monkeypatch.delenv(name, raising=False)


def test_scan_prints_a_table_with_a_header_and_the_recovered_apart(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["scan", "--from-file", str(LEGACY_SAMPLE)]) == 0
    out, err = capsys.readouterr()
    failing, recovered = out.split("\n\n")
    header, *rows = failing.splitlines()
    assert header.split() == [
        "ENVIRONMENT", "APP", "REVISION", "CAUSE", "ATTEMPTS", "FIRST", "SEEN", "(UTC)",
        "LAST", "SEEN", "(UTC)", "IMAGE",
    ]  # fmt: skip
    assert len(rows) == 7
    orders = next(row.split() for row in rows if " orders-api--0000007 " in row)
    # pull attempts: each distinct "Failed to pull image" row once; back-off lines are none
    attempts = {
        (r["TimeGenerated"], r["ReplicaName_s"])
        for r in export_rows(LEGACY_SAMPLE)
        if r["RevisionName_s"] == "orders-api--0000007"
        and row_kind(r["Log_s"], r["Reason_s"]) == "failure"
    }
    assert orders[:5] == [
        "cae-prod-weu",
        "orders-api",
        "orders-api--0000007",
        "image-not-found",
        str(len(attempts)),
    ]
    assert orders[5:9] == ["2026-11-29", "08:02:31", "2026-11-29", "08:58:58"]
    assert orders[-1] == "acrpullwatchprod.azurecr.io/orders-api:1.4.3"
    stage = [row for row in rows if row.startswith("cae-stage-weu ")]
    assert stage and all("checkout" not in row for row in rows)  # recovered: not failing
    assert recovered.splitlines()[0].startswith("recovered (")
    assert "RECOVERED (UTC)" in recovered.splitlines()[1]
    [checkout] = recovered.splitlines()[2:]
    assert "network-timeout" in checkout and "2026-11-29 08:32:18" in checkout
    assert not [row for row in rows if "web-frontend" in row or "billing-worker" in row]
    assert "7 failing revision(s), 1 recovered up to 2026-11-29T08:58:58Z" in err
    source = FileSource(LEGACY_SAMPLE, timedelta(hours=24))
    newest = source.latest_time()
    assert newest is not None and newest > datetime(2026, 11, 29, 8, 58, tzinfo=UTC)
    result = source.fetch(now=newest)
    assert f"{len(result.groups)} rows returned for {result.rows_matched} rows matched" in err
    assert len(result.groups) < result.rows_matched / 20
    assert f"read {LEGACY_SAMPLE} as az monitor log-analytics query -o json" in err


def test_the_same_revision_name_in_two_environments_reads_apart(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = [
        {
            "TimeGenerated": "2026-11-29T08:00:00Z",
            "EnvironmentName": environment,
            "ContainerAppName": "api",
            "RevisionName": "api--0000001",
            "Log": 'Failed to pull image "acr.azurecr.io/api:1": not found',
            "Reason": "Failed",
        }
        for environment in ("cae-staging", "cae-production")
    ]
    path = tmp_path / "two.json"
    path.write_text(json.dumps(rows), "utf-8")
    assert main(["scan", "--from-file", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["cae-production", "cae-staging"]


def test_scan_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--from-file", str(RESOURCE_SAMPLE), "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(["scan", "--from-file", str(LEGACY_SAMPLE), "--json"]) == 0
    legacy = {r["revision"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert legacy["checkout--0000021"]["recovered"] is True  # listed, marked recovered
    assert legacy["orders-api--0000007"]["recovered"] is False
    by_revision = {r["revision"]: r for r in records}
    assert by_revision["edge-proxy--0000001"]["cause"] == "rate-limited"
    assert by_revision["edge-proxy--0000001"]["image"] == "docker.io/library/nginx:1.27"
    assert by_revision["admin-portal--0000008"]["reasons"] == ["ImagePullUnauthorized"]
    assert {"app", "count", "first_seen", "last_seen", "environment"} <= set(records[0])


def test_scan_since_narrows_the_window(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["scan", "--from-file", str(LEGACY_SAMPLE), "--now", "2026-11-29T09:00:00Z"]
    assert main([*args, "--since", "5m"]) == 0
    out = capsys.readouterr().out
    assert "checkout--0000021" not in out  # its failures ended at 08:28
    assert "orders-api--0000007" in out


def test_scan_without_a_source_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan"]) == 2
    err = capsys.readouterr().err
    assert "--workspace" in err and "--from-file" in err and "PULLWATCH_WORKSPACE_IDS" in err


def test_scan_with_a_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--from-file", "no/such/export.json"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_query_prints_the_kql_for_the_settings(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, kusto: KustoChecker
) -> None:
    monkeypatch.setenv("PULLWATCH_TABLE", "ContainerAppSystemLogs")
    monkeypatch.setenv("PULLWATCH_LOOKBACK", "90m")
    assert main(["query", "--now", "2026-11-29T09:00:00Z"]) == 0
    system_logs, activity_log = capsys.readouterr().out.split("\n\n")
    for query in (system_logs, activity_log):
        assert query.startswith("// pullwatch")
        assert "let since = datetime(2026-11-29T07:30:00.000000Z);" in query
    assert "ContainerAppSystemLogs_CL" not in system_logs
    assert "AzureActivity" in activity_log and "MICROSOFT.APP/JOBS/WRITE" in activity_log
    for result in kusto.check([system_logs, activity_log]):
        assert result["ok"], result["diagnostics"]
    monkeypatch.setenv("PULLWATCH_ACTIVITY_LOG", "off")
    assert main(["query", "--now", "2026-11-29T09:00:00Z"]) == 0
    assert "AzureActivity" not in capsys.readouterr().out


def test_query_table_option_and_watermark(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--table", "auto", "--watermark", "2026-11-29T08:30:00Z"]) == 0
    query = capsys.readouterr().out
    assert "union isfuzzy=true" in query and "ingestion_time() > since" in query
