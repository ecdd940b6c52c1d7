"""The README's "Triage with whatever you have" table, run as written: one command per format, each
on its committed sample, and together they cover every export format ``scan`` reads."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from pullwatch.commands.main import main
from pullwatch.fetch.exports import ExportFormat, open_export

ROOT = Path(__file__).resolve().parents[2]
SECTION = re.compile(r"^### Triage with whatever you have\n(.*?)^#", re.M | re.S)
EXPORTS = {
    ExportFormat.REST,
    ExportFormat.AZ_LIST,
    ExportFormat.CONTAINERAPP,
    ExportFormat.CSV,
}


def table_rows() -> list[tuple[str, str, str]]:
    """(what you have, sample, command) of each row of the section's table."""
    section = SECTION.search((ROOT / "README.md").read_text("utf-8"))
    assert section is not None, "the README lost its triage section"
    rows = []
    for line in section.group(1).splitlines():
        if not line.startswith("| ") or line.startswith(("| you have", "|---")):
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
        assert len(cells) == 3, line
        have, sample, command = cells
        rows.append((have, sample.strip("`"), command.strip("`").replace("\\|", "|")))
    return rows


ROWS = table_rows()
EXPORT_ROWS = [row for row in ROWS if row[1] != "—"]


def test_every_export_format_has_a_row_with_its_sample() -> None:
    formats = []
    for _, sample, _ in EXPORT_ROWS:
        export = open_export(ROOT / sample)
        export.text.close()
        formats.append(export.format)
    assert sorted(formats) == sorted(EXPORTS)


@pytest.mark.parametrize(
    ("have", "sample", "command"), EXPORT_ROWS, ids=[r[1] for r in EXPORT_ROWS]
)
def test_the_command_of_each_row_runs_on_its_sample(
    have: str, sample: str, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = shlex.split(command)
    assert argv[:3] == ["python", "-m", "pullwatch"] and sample in argv, command
    assert main(argv[3:]) == 0
    out, err = capsys.readouterr()
    header, *failing = out.split("\n\n")[0].splitlines()
    assert header.startswith("ENVIRONMENT") and failing, out
    assert f"read {sample} as " in err and " 0 failing revision(s)" not in err


def test_the_row_for_copied_lines_pipes_into_classify() -> None:
    [(_, _, command)] = [row for row in ROWS if row[1] == "—"]
    _, piped = command.split(" | ")
    assert shlex.split(piped) == ["python", "-m", "pullwatch", "classify"]
