"""The terminal side of the check: verify-query, scan --resources, run --dry-run --resources."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.runner import pullwatch as run_cli
from tests.verify.scenarios import SAMPLE

LOGS = Path(__file__).resolve().parents[2] / "samples" / "containerapp-system-logs-cl.json"


def test_verify_query_prints_the_query_for_the_named_apps() -> None:
    result = run_cli("verify-query", "--app", "shipping", "--environment", "cae-prod-weu")
    assert result.returncode == 0
    assert "name in~ ('shipping')" in result.stdout and "authorizationresources" in result.stdout


def test_scan_with_resources_prints_the_findings() -> None:
    result = run_cli(
        "scan", "--from-file", str(LOGS), "--since", "100d", "--json", "--resources", str(SAMPLE)
    )
    assert result.returncode == 0, result.stderr
    records = {r["app"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert [f["id"] for f in records["shipping"]["findings"]] == ["identity-lacks-pull-role"]
    assert [f["id"] for f in records["inventory"]["findings"]] == [
        "registry-ip-rules-exclude-environment"
    ]
    assert "findings" not in records["orders-api"]  # image-not-found: nothing to check


def test_dry_run_json_carries_the_finding_ids(tmp_path: Path) -> None:
    result = run_cli(
        "run",
        "--from-file",
        str(LOGS),
        "--ledger",
        str(tmp_path / "l.json"),
        "--dry-run",
        "--now",
        "2026-11-29T09:00:00Z",
        "--resources",
        str(SAMPLE),
    )
    assert result.returncode == 0, result.stderr
    records = {r["app"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert records["payments-api"]["findings"] == ["admin-user-disabled"]
    assert records["catalog-web"]["findings"] == ["private-dns-not-linked"]
    assert records["orders-api"]["findings"] == []


def test_an_unreadable_resources_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "r.json"
    bad.write_text("{")
    result = run_cli("scan", "--from-file", str(LOGS), "--since", "100d", "--resources", str(bad))
    assert result.returncode == 2
    assert (
        result.stderr.startswith("pullwatch: error: --resources")
        and "Traceback" not in result.stderr
    )
