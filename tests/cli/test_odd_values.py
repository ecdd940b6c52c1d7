"""Odd values from a terminal or the environment: each gets one line naming the option, setting or
file, exit code 2, and never a traceback (issue 19 item 6, issue 13 item 7)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.runner import ROOT, pullwatch

SAMPLE = str(ROOT / "samples" / "containerapp-system-logs-cl.json")
NOW = "2026-11-29T09:00:00Z"


def one_line_error(*args: str, env: dict[str, str] | None = None) -> str:
    result = pullwatch(*args, env=env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        (["scan", "--from-file", SAMPLE, "--since", "999999999w"], {}, "--since: '999999999w' is"),
        (["query", "--since", "53w"], {}, "longer than 365 days"),
        (["scan", "--from-file", SAMPLE, "--now", "0001-01-01T00:00:00Z"], {}, "--now: '0001-"),
        (["query", "--watermark", "1999-12-31T23:59:59Z"], {}, "not between 2000 and 2099"),
        (["query"], {"PULLWATCH_LOOKBACK": "999999999w"}, "PULLWATCH_LOOKBACK: '999999999w' is"),
        (
            ["run", "--from-file", SAMPLE, "--dry-run", "--now", NOW],
            {"PULLWATCH_TRANSIENT_OCCURRENCES": "²"},
            "PULLWATCH_TRANSIENT_OCCURRENCES must be a whole number from 1 to 100,000, got '²'",
        ),
        (
            ["run", "--from-file", SAMPLE, "--dry-run", "--now", NOW],
            {"PULLWATCH_DIGEST_THRESHOLD": "99999999999"},
            "PULLWATCH_DIGEST_THRESHOLD must be a whole number",
        ),
        (["run", "--from-file", SAMPLE, "--dry-run", "--now", "0001-01-01T00:00:00Z"], {}, "--now"),
        (["silence", "add", "--app", "x", "--for", "999999999w", "--comment", "c"], {}, "--for:"),
        (["silence", "add", "--app", "", "--for", "1h", "--comment", "c"], {}, "--app must not"),
        (["silence", "add", "--app", "  ", "--for", "1h", "--comment", "c"], {}, "--app must not"),
        (
            ["silence", "add", "--app", "orders-[", "--for", "1h", "--comment", "c"],
            {},
            "--app 'orders-[' has a '[' that is never closed",
        ),
        (
            ["silence", "add", "--app", "a", "--revision", "a b", "--for", "1h", "--comment", "c"],
            {},
            "--revision 'a b' holds spaces",
        ),
    ],
)
def test_odd_values_get_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str], words: str
) -> None:
    if args[0] in ("run", "silence"):
        args = [*args, "--ledger", str(tmp_path / "l.json")]
    assert words in one_line_error(*args, env=env)
    assert not (tmp_path / "l.json").exists()  # nothing was written


def test_odd_files_get_one_line(tmp_path: Path) -> None:
    tables = tmp_path / "tables.json"
    tables.write_text('{"tables":[1]}', "utf-8")
    line = one_line_error("scan", "--from-file", str(tables))
    assert line == (
        f"pullwatch: error: {tables}: table 1 is a number (1), not an object with "
        '"columns" and "rows"'
    )
    text = tmp_path / "notes.txt"
    text.write_text("Failed to pull image 'a/b:1'\n", "utf-8")
    ledger = str(tmp_path / "l.json")
    line = one_line_error("run", "--from-file", str(text), "--dry-run", "--ledger", ledger)
    assert "not a supported export" in line and "supported: Log Analytics query API JSON" in line


def test_wrong_column_names_are_an_error_naming_the_columns(tmp_path: Path) -> None:
    """Issue 13's "false all-clear": a log column named Message gave 0 failing revisions."""
    rows = json.loads(Path(SAMPLE).read_text("utf-8"))
    for row in rows:
        row["Message"] = row.pop("Log_s")
    renamed = tmp_path / "renamed.json"
    renamed.write_text(json.dumps(rows), "utf-8")
    for args in (
        ("scan", "--from-file", str(renamed)),
        ("run", "--from-file", str(renamed), "--dry-run", "--ledger", str(tmp_path / "l.json")),
    ):
        line = one_line_error(*args)
        assert line.endswith(
            "missing columns: log text (Log or Log_s); columns found: TableName, TenantId, "
            "SourceSystem, TimeGenerated, ContainerAppName_s, EnvironmentName_s, RevisionName_s, "
            "ReplicaName_s, Reason_s, Type_s, EventSource_s, Count_d, _timestamp_d, Type, "
            "_ResourceId, Message"
        )


def test_scan_workspace_without_a_credential_says_az_login(tmp_path: Path) -> None:
    """DefaultAzureCredential finds nothing (no login, no identity): one line, SDK noise muted."""
    env = {
        "HOME": str(tmp_path),
        "AZURE_CONFIG_DIR": str(tmp_path / "az"),  # an az CLI, if installed, is logged out
    }
    line = one_line_error("scan", "--workspace", "00000000-0000-0000-0000-000000000000", env=env)
    assert line.startswith("pullwatch: error: no Azure credential was found: run `az login`")
