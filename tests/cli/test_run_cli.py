"""`python -m pullwatch run` and `demo` from a terminal, as subprocesses with a clean environment."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.runner import ROOT, pullwatch

SAMPLE = ROOT / "samples" / "containerapp-system-logs-cl.json"


def test_dry_run_prints_json_lines_then_nothing_new(tmp_path: Path) -> None:
    args = (
        "run",
        "--from-file",
        str(SAMPLE),
        "--ledger",
        str(tmp_path / "l.json"),
        "--dry-run",
        "--now",
        "2026-11-29T09:00:00Z",
    )
    first = pullwatch(*args)
    assert first.returncode == 0, first.stderr
    records = [json.loads(line) for line in first.stdout.splitlines()]
    assert len(records) >= 5
    for record in records:
        assert {"kind", "app", "revision", "cause", "image", "count"} <= set(record)
        assert record["kind"] in {"firing", "reminder", "cause-changed", "resolved"}
    assert {r["app"]: r["cause"] for r in records}["orders-api"] == "image-not-found"
    second = pullwatch(*args)
    assert second.returncode == 0 and second.stdout == ""
    assert "decisions: none=" in second.stderr


def test_run_without_a_source_says_what_is_missing(tmp_path: Path) -> None:
    result = pullwatch("run", "--dry-run", "--ledger", str(tmp_path / "l.json"))
    assert result.returncode == 2
    assert "PULLWATCH_WORKSPACE_IDS" in result.stderr and "--from-file" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_without_a_notifier_outside_dry_run_is_refused(tmp_path: Path) -> None:
    result = pullwatch("run", "--from-file", str(SAMPLE), "--ledger", str(tmp_path / "l.json"))
    assert result.returncode == 2 and "no notifier is configured" in result.stderr


def test_bad_now_is_a_clear_error(tmp_path: Path) -> None:
    result = pullwatch(
        "run",
        "--from-file",
        str(SAMPLE),
        "--dry-run",
        "--ledger",
        str(tmp_path / "l.json"),
        "--now",
        "yesterday",
    )
    assert result.returncode == 2 and "--now" in result.stderr


def test_demo_shows_three_ticks_nothing_repeats_and_a_resolution(tmp_path: Path) -> None:
    result = pullwatch("demo", "--ledger", str(tmp_path / "demo.json"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    tick1, rest = out.split("Tick 2", 1)
    tick2, tick3 = rest.split("Tick 3", 1)
    assert tick1.count("🔴 Image pull failing") >= 5
    assert "az acr repository show-tags --name acrpullwatchprod --repository orders-api" in tick1
    # verified findings from samples/azure-resources.json, each leading its alert with its fix
    assert tick1.count("✔ Checked 09:00 UTC: ") >= 2
    assert tick1.count("Fix (from the configuration check):") >= 2
    assert (
        "✔ Checked 09:00 UTC: identity id-shipping (principal a1c9e7d5-3b2f-4a6e-8d0c-1e2f3a4b5c6d)"
        " has no AcrPull on acrpullwatchprod" in tick1
    )
    assert (
        '$ az role assignment create --role "AcrPull" --assignee-object-id '
        "a1c9e7d5-3b2f-4a6e-8d0c-1e2f3a4b5c6d --assignee-principal-type ServicePrincipal --scope "
        "/subscriptions/6f1e2d3c-4b5a-4978-8a1b-2c3d4e5f6a7b/resourceGroups/rg-shop-prod/providers/"
        "Microsoft.ContainerRegistry/registries/acrpullwatchprod" in tick1
    )
    assert "acrcorpnet's firewall denies by default" in tick1
    # payments-api's failure lines name no image: its "Pulling image" line does
    payments = tick1.split("payments-api / payments-api--0000012", 1)[1].split("🔴", 1)[0]
    assert "Image: acrpullwatchprod.azurecr.io/payments-api:2024.11.3" in payments
    assert "could not check" not in out
    # a job that cannot pull (its executions named, job commands), and deployments Azure refused
    # (the Activity Log), with who deployed
    job = tick1.split("job invoice-export (environment cae-prod-weu;", 1)[1].split("🔴", 1)[0]
    assert "executions invoice-export-q4w7n2c, invoice-export-h8d3m5t" in job
    assert "$ az containerapp job start --name invoice-export --resource-group rg-shop-prod" in job
    assert (
        "az containerapp revision restart" not in job
        and "--name invoice-export --revision" not in job
    )
    assert (
        "deployment of acrpullwatchprod.azurecr.io/shipping:5.3.0 to shipping by "
        "dana.fischer@contoso.com at 2026-11-29 08:20 UTC" in tick1
    )
    assert "deployment of acrstage.azurecr.io/catalog-web:2.1.0 to catalog-web by" in tick1
    assert "🔴" not in tick2 and "nothing new" in tick2
    assert tick3.count("✅ Resolved") == 2 and "orders-api--0000007" in tick3
    assert "job invoice-export" in tick3
    assert "🔴" not in tick3


def test_from_file_without_now_uses_the_newest_row_and_says_so(tmp_path: Path) -> None:
    ledger = str(tmp_path / "l.json")
    result = pullwatch("run", "--from-file", str(SAMPLE), "--ledger", ledger, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert (
        "pullwatch: no --now given: the tick's clock is the newest row's time, "
        "2026-11-29T08:58:58Z" in result.stderr
    )
    assert {json.loads(line)["app"] for line in result.stdout.splitlines()} >= {"orders-api"}


def test_rows_after_now_are_ignored(tmp_path: Path) -> None:
    """``--now`` before a revision's first failure: that revision does not exist yet."""
    ledger = str(tmp_path / "l.json")
    early = pullwatch(
        "run", "--from-file", str(SAMPLE), "--ledger", ledger, "--dry-run",
        "--now", "2026-11-29T08:13:00Z",
    )  # fmt: skip
    assert early.returncode == 0, early.stderr
    apps = {json.loads(line)["app"] for line in early.stdout.splitlines()}
    assert "orders-api" in apps  # failing since 08:02
    assert "reports" not in apps  # first failure at 08:40, after --now
    assert "row(s) after 2026-11-29T08:13:00Z (the tick's now) were left out" in early.stderr
