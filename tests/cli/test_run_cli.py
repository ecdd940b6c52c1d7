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
    assert "🔴" not in tick2 and "nothing new" in tick2
    assert tick3.count("✅ Resolved") == 1 and "orders-api--0000007" in tick3
    assert "🔴" not in tick3
