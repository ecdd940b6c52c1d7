"""``python -m pullwatch scan`` and ``query``: output lines, JSON, and the missing-source error."""

from __future__ import annotations

import json

import pytest

from pullwatch.commands.main import main
from tests.query.conftest import LEGACY_SAMPLE, RESOURCE_SAMPLE, KustoChecker

CLEAN_ENV = ("PULLWATCH_WORKSPACE_IDS", "PULLWATCH_TABLE", "PULLWATCH_LOOKBACK")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CLEAN_ENV:
        monkeypatch.delenv(name, raising=False)


def test_scan_prints_one_line_per_failing_revision(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--from-file", str(LEGACY_SAMPLE)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 8
    orders = next(line for line in lines if line.startswith("orders-api  orders-api--0000007  "))
    assert "  image-not-found  count=" in orders
    assert "first=2026-11-29T08:" in orders and "last=2026-11-29T08:" in orders
    assert orders.endswith("image=acrpullwatchprod.azurecr.io/orders-api:1.4.3")
    checkout = next(line for line in lines if " checkout--0000021 " in line)
    assert "network-timeout" in checkout and "recovered=2026-11-29T08:3" in checkout
    assert not [line for line in lines if "web-frontend" in line or "billing-worker" in line]
    assert "8 failing revision(s); 17 rows returned for 684 rows matched" in err


def test_scan_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--from-file", str(RESOURCE_SAMPLE), "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
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
    query = capsys.readouterr().out
    assert query.startswith("// pullwatch")
    assert "let since = datetime(2026-11-29T07:30:00.000000Z);" in query
    assert "ContainerAppSystemLogs_CL" not in query
    [result] = kusto.check([query])
    assert result["ok"], result["diagnostics"]


def test_query_table_option_and_watermark(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--table", "auto", "--watermark", "2026-11-29T08:30:00Z"]) == 0
    query = capsys.readouterr().out
    assert "union isfuzzy=true" in query and "ingestion_time() > watermark" in query
