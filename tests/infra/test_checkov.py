"""checkov's Bicep checks pass over infra/ with no parsing errors and only justified skips.

checkov runs from its own virtual environment (`make checkov-env`, it pins an older pycep) and
silently skips files it cannot parse, so the parsing error count is asserted, not assumed. A missing
checkov fails this test: it must never pass by not running.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.infra.conftest import INFRA, REPO

CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed at {CHECKOV}: run `make checkov-env`")
    result = subprocess.run(
        [
            str(CHECKOV),
            "--directory",
            str(INFRA),
            "--framework",
            "bicep",
            "--skip-download",
            "--output",
            "json",
            "--compact",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
        check=False,
    )
    assert result.stdout.strip(), (
        f"checkov printed nothing (exit {result.returncode}): {result.stderr[-2000:]}"
    )
    parsed = json.loads(result.stdout)
    # one framework gives one report object; a list would mean a second framework ran
    assert isinstance(parsed, dict), "expected a single bicep report"
    assert parsed["check_type"] == "bicep"
    return parsed


def test_checkov_parsed_every_file(report: dict[str, Any]) -> None:
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["resource_count"] >= len(list(INFRA.rglob("*.bicep")))
    assert report["summary"]["passed"] > 20  # the checks really ran


def test_checkov_finds_no_failed_check(report: dict[str, Any]) -> None:
    failed = [
        f"{check['check_id']} {check['resource']} {check['file_path']}: {check['check_name']}"
        for check in report["results"].get("failed_checks", [])
    ]
    assert report["summary"]["failed"] == 0, failed


def test_every_skipped_check_is_justified(report: dict[str, Any]) -> None:
    for check in report["results"].get("skipped_checks", []):
        reason = check["check_result"].get("suppress_comment", "")
        assert reason != "No comment provided", check["check_id"]
        assert len(reason.split()) >= 6, f"{check['check_id']}: say why, not just that"


def test_every_skip_comment_in_the_bicep_is_used(report: dict[str, Any]) -> None:
    skipped = {
        (check["check_id"], check["resource"].split(".", 1)[1])
        for check in report["results"].get("skipped_checks", [])
    }
    skipped_ids = {check_id for check_id, _ in skipped}
    for path in INFRA.rglob("*.bicep"):
        for line in path.read_text().splitlines():
            if "checkov:skip=" in line:
                check_id = line.split("checkov:skip=", 1)[1].split(":", 1)[0]
                assert check_id in skipped_ids, f"{path.name}: stale skip {check_id}"
