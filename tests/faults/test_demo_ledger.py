"""``python -m pullwatch demo --ledger FILE`` never touches a ledger it did not make."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.cli.runner import pullwatch
from tests.faults.harness import Channels, Forker, apps, write_export

START = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def real_ledger(forker: Forker, channels: Channels, tmp_path: Path) -> Path:
    """A ledger written by a real run, with an entry, a delivery and a silence in it."""
    export = write_export(tmp_path / "export.json", apps(2), START)
    ledger = tmp_path / "existing-ledger.json"
    ran = forker.run(
        [
            "run",
            "--from-file",
            str(export),
            "--now",
            "2026-11-29T08:10:00Z",
            "--ledger",
            str(ledger),
        ],
        channels.env(),
    )
    assert ran.code == 0, ran.stderr
    silenced = forker.run(
        ["silence", "add", "--app", "alpha", "--for", "1d", "--comment", "fix in progress",
         "--ledger", str(ledger)],
        {},
    )  # fmt: skip
    assert silenced.code == 0, silenced.stderr
    return ledger


def test_demo_refuses_an_existing_ledger_and_leaves_it_byte_for_byte(
    forker: Forker, channels: Channels, tmp_path: Path
) -> None:
    ledger = real_ledger(forker, channels, tmp_path)
    before = ledger.read_bytes()
    stat = ledger.stat()
    result = pullwatch("demo", "--ledger", str(ledger))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        f"pullwatch: error: --ledger {ledger} exists and was not made by the demo: refusing to "
        "touch it (give the demo a new path)\n"
    )
    assert ledger.read_bytes() == before and ledger.stat().st_mtime_ns == stat.st_mtime_ns
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "existing-ledger.json",
        "existing-ledger.json.lock",
        "export.json",
    ]  # no marker, no temp file, nothing else


@pytest.mark.parametrize("content", [b"", b"not json", b'{"version": 1}'])
def test_demo_refuses_any_file_it_did_not_make(
    forker: Forker, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "mine.json"
    path.write_bytes(content)
    result = forker.run(["demo", "--ledger", str(path)], {})
    assert result.code == 2 and "refusing to touch it" in result.stderr
    assert path.read_bytes() == content and [p.name for p in tmp_path.iterdir()] == ["mine.json"]


def test_demo_starts_its_own_ledger_afresh(forker: Forker, tmp_path: Path) -> None:
    path = tmp_path / "demo.json"
    for _ in range(2):  # the second run finds the demo's marker and starts again
        result = forker.run(["demo", "--ledger", str(path)], {})
        assert result.code == 0, result.stderr
        assert "Tick 1" in result.stdout and "🔴" in result.stdout.split("Tick 2")[0]


@pytest.mark.parametrize(
    "command",
    [["run"], ["demo"], ["ledger", "show"], ["silence", "add"], ["silence", "list"],
     ["silence", "remove"]],
    ids=" ".join,
)  # fmt: skip
def test_every_ledger_option_has_help(forker: Forker, command: list[str]) -> None:
    result = forker.run([*command, "--help"], {"COLUMNS": "100"})
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    (start,) = [i for i, x in enumerate(lines) if x.strip().startswith("--ledger PATH")]
    text = lines[start].strip().removeprefix("--ledger PATH")
    for line in lines[start + 1 :]:  # the help text goes on, indented, until the next option
        if not line.startswith("     ") or line.strip().startswith("-"):
            break
        text += " " + line.strip()
    assert len(text.split()) >= 4, text
