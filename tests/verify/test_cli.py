"""The terminal side of the check: verify-query, scan --resources, run --dry-run --resources."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.runner import pullwatch as run_cli
from tests.verify.scenarios import SAMPLE

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
LOGS = SAMPLES / "containerapp-system-logs-cl.json"
STREAM = SAMPLES / "az-containerapp-logs-system.jsonl"


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


SHIPPING_401 = (
    'Failed to pull image "acrpullwatchprod.azurecr.io/shipping:5.2.0": rpc error: code = Unknown '
    'desc = failed to pull and unpack image "acrpullwatchprod.azurecr.io/shipping:5.2.0": failed '
    'to resolve reference "acrpullwatchprod.azurecr.io/shipping:5.2.0": failed to authorize: '
    "failed to fetch oauth token: unexpected status from GET request to "
    "https://acrpullwatchprod.azurecr.io/oauth2/token: 401 Unauthorized"
)


def test_classify_with_resources_checks_each_exported_row_against_its_own_app() -> None:
    result = run_cli("classify", "--from-file", str(LOGS), "--json", "--resources", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    by_image: dict[str, set[tuple[str, ...]]] = {}
    for record in records:
        if "findings" in record:
            ids = tuple(f["id"] for f in record["findings"])
            by_image.setdefault(record["image"] or "-", set()).add(ids)
    assert by_image["acrpullwatchprod.azurecr.io/shipping:5.2.0"] == {("identity-lacks-pull-role",)}
    assert by_image["acrstage.azurecr.io/catalog-web:2.0.0"] == {("private-dns-not-linked",)}
    assert by_image["acrcorpnet.azurecr.io/inventory:3.1.0"] == {
        ("registry-ip-rules-exclude-environment",)
    }
    not_found = [r for r in records if r["cause"] == "image-not-found"]
    assert not_found and all("findings" not in r for r in not_found)  # nothing to check


def test_classify_a_message_with_app_given_and_without(tmp_path: Path) -> None:
    given = run_cli("classify", SHIPPING_401, "--resources", str(SAMPLE), "--app", "shipping")
    assert given.returncode == 0, given.stderr
    checked = given.stdout.split("checked against the configuration (--resources):\n", 1)[1]
    assert checked.startswith("    ✔ identity-lacks-pull-role: identity id-shipping")
    assert (
        '$ az role assignment create --role "AcrPull" --assignee-object-id '
        "a1c9e7d5-3b2f-4a6e-8d0c-1e2f3a4b5c6d" in checked
    )
    # a log-stream export names its app on every line; az graph query > file in Windows
    # PowerShell writes UTF-16
    utf16 = tmp_path / "resources.json"
    utf16.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-16")
    stream = run_cli("classify", "--from-file", str(STREAM), "--json", "--resources", str(utf16))
    assert stream.returncode == 0, stream.stderr
    [failure, *_] = [json.loads(line) for line in stream.stdout.splitlines()]
    assert [f["id"] for f in failure["findings"]] == ["registry-ip-rules-exclude-environment"]
    unnamed = run_cli("classify", SHIPPING_401, "--resources", str(SAMPLE), "--json")
    [record] = [json.loads(line) for line in unnamed.stdout.splitlines()]
    assert record["findings"] == [] and "give --app NAME" in record["check_error"]


def test_resource_rows_that_cannot_be_read_are_one_line_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "r.json"
    bad.write_text(
        '{"data": [{"id": "/x", "type": "microsoft.app/containerapps", "properties": 7}]}'
    )
    result = run_cli("classify", SHIPPING_401, "--resources", str(bad), "--app", "shipping")
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"pullwatch: error: --resources {bad}: row 1 cannot be read")
