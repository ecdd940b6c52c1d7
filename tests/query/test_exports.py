"""Every export format, built from the bundled rows by ``tests/fakes/exports.py``, mangled, or
unsupported: the same groups as the original sample, or one clear line saying what was found."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from pullwatch.errors import ExportError
from pullwatch.fetch.exports import (
    ExportFormat,
    detect_encoding,
    open_export,
    parse_json_line,
    parse_time,
)
from pullwatch.fetch.filesource import FileSource
from pullwatch.fetch.records import RevisionGroup
from tests.fakes.exports import (
    containerapp_line,
    sample_rows,
    to_az_list,
    to_containerapp_lines,
    to_portal_csv,
    to_rest,
    write_portal_csv,
)
from tests.query.conftest import LEGACY_SAMPLE, RESOURCE_SAMPLE

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
SAMPLES = {"legacy": LEGACY_SAMPLE, "resource": RESOURCE_SAMPLE}


def groups(path: Path, **defaults: str) -> tuple[RevisionGroup, ...]:
    return FileSource(path, HOUR, **defaults).fetch(now=NOW).groups


def without_environment(found: tuple[RevisionGroup, ...]) -> set[RevisionGroup]:
    """The log stream names no environment, resource or container: compare the rest (groups
    that differed only by container merged)."""
    merged: dict[tuple[str, str, str, str, str], RevisionGroup] = {}
    for g in found:
        key = (g.app, g.revision, g.signal.value, g.reason, g.text)
        bare = replace(g, environment="", resource_id="", container="")
        seen = merged.get(key)
        merged[key] = (
            bare
            if seen is None
            else replace(
                seen,
                count=seen.count + g.count,
                first_seen=min(seen.first_seen, g.first_seen),
                last_seen=max(seen.last_seen, g.last_seen),
                rows=tuple(sorted({*seen.rows, *g.rows}, key=lambda r: (r.time, r.replica))),
            )
        )
    return set(merged.values())


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding, newline="")
    return path


@pytest.mark.parametrize("flavour", sorted(SAMPLES))
@pytest.mark.parametrize(
    ("kind", "encoding"),
    [
        ("rest", "utf-8"),
        ("az-list", "utf-8"),
        ("az-list", "utf-8-sig"),  # a BOM, as PowerShell 7 and Notepad may write
        ("az-list", "utf-16"),  # Windows PowerShell's `>` (UTF-16 LE with a BOM)
        ("rest", "utf-16-le"),  # UTF-16 without a BOM
        ("rest", "utf-16-be"),
        ("csv", "utf-8-sig"),
        ("csv", "utf-8"),
        ("csv", "utf-16"),
    ],
)
def test_every_format_gives_the_groups_of_the_original(
    tmp_path: Path, flavour: str, kind: str, encoding: str
) -> None:
    columns, rows = sample_rows(SAMPLES[flavour])
    text = {
        "rest": lambda: to_rest(columns, rows),
        "az-list": lambda: to_az_list(columns, rows),
        "csv": lambda: to_portal_csv(columns, rows),
    }[kind]()
    path = write(tmp_path, "export", text, encoding)
    expected = groups(SAMPLES[flavour])
    assert len(expected) > 10
    assert groups(path) == expected


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])  # utf-16: Windows PowerShell's `>`
@pytest.mark.parametrize("flavour", sorted(SAMPLES))
def test_log_stream_json_lines_with_unescaped_quotes(
    tmp_path: Path, flavour: str, encoding: str
) -> None:
    _, rows = sample_rows(SAMPLES[flavour])
    text = to_containerapp_lines(rows)
    invalid = 0
    for line in text.splitlines():
        try:
            json.loads(line)
        except json.JSONDecodeError:
            invalid += 1
    assert invalid > 20  # the CLI's unescaping really breaks lines: the repair is exercised
    path = write(tmp_path, "stream.json", text, encoding)
    assert open_export(path).format is ExportFormat.CONTAINERAPP
    assert without_environment(groups(path)) == without_environment(groups(SAMPLES[flavour]))


def test_the_firewall_denial_json_inside_msg_survives_the_repair() -> None:
    message = (
        "Container 'api' was terminated with exit code '' and reason 'ImagePullFailure'. "
        'Error: {"errors":[{"code":"DENIED","message":"client with IP \'1.2.3.4\' is not '
        'allowed access, refer https://aka.ms/acr/firewall"}]} + C:\\temp \x1b[0m'
    )
    row = {
        "TimeGenerated": "2026-11-29T08:00:00Z",
        "ContainerAppName": "api",
        "RevisionName": "api--1",
        "Log": message,
        "Reason": "ContainerTerminated",
        "Count": 2,
    }
    line = containerapp_line(row)
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)
    record = parse_json_line(line)
    assert record is not None
    assert record["Msg"] == message
    assert record["Reason"] == "ContainerTerminated" and record["Count"] == 2


def test_log_stream_rows_without_app_or_revision_take_the_options(tmp_path: Path) -> None:
    line = json.dumps(
        {
            "TimeStamp": "2026-11-29 08:30:00 +0000 UTC",
            "Msg": 'Failed to pull image "a/b:1"',
            "Reason": "Failed",
        }
    )
    path = write(tmp_path, "stream.json", line + "\n")
    with pytest.raises(ExportError, match=r"missing columns: app .*; revision "):
        groups(path)
    [group] = groups(path, app="orders", revision="orders--7", environment="prod")
    assert (group.environment, group.app, group.revision) == ("prod", "orders", "orders--7")


def test_a_cut_off_last_line_is_skipped_with_a_warning(tmp_path: Path) -> None:
    _, rows = sample_rows(LEGACY_SAMPLE)
    text = to_containerapp_lines(rows)
    cut = text[: len(text) - len(text.splitlines()[-1]) // 2 - 1]
    path = write(tmp_path, "stream.json", cut)
    result = FileSource(path, HOUR).fetch(now=NOW)
    assert result.groups
    assert any("line 774 is not complete JSON" in w for w in result.warnings)
    broken_middle = text.replace("\n", "\n{oops\n", 1)
    with pytest.raises(ExportError, match="line 2 is not a JSON object"):
        groups(write(tmp_path, "middle.json", broken_middle))


def test_a_cut_off_csv_keeps_the_complete_rows(tmp_path: Path) -> None:
    columns, rows = sample_rows(RESOURCE_SAMPLE)
    text = to_portal_csv(columns, rows)
    path = write(tmp_path, "export.csv", text[: len(text) - 200], "utf-8-sig")
    result = FileSource(path, HOUR).fetch(now=NOW)
    assert result.groups
    assert any("the last row has" in w and "cut off" in w for w in result.warnings)


def test_a_cut_off_json_document_is_an_error(tmp_path: Path) -> None:
    columns, rows = sample_rows(RESOURCE_SAMPLE)
    text = to_rest(columns, rows)
    with pytest.raises(ExportError, match="cut off"):
        groups(write(tmp_path, "cut.json", text[: len(text) // 2]))


def test_portal_csv_in_another_time_zone(tmp_path: Path) -> None:
    header = "TimeGenerated [UTC+02:00],ContainerAppName_s,RevisionName_s,Reason_s,Log_s\r\n"
    row = '"11/29/2026, 10:30:00.000 AM",api,api--1,Failed,"Failed to pull image ""a/b:1"": not found"\r\n'
    [group] = groups(write(tmp_path, "export.csv", header + row))
    assert group.first_seen == datetime(2026, 11, 29, 8, 30, tzinfo=UTC)
    local = header.replace("[UTC+02:00]", "[Local Time]")
    with pytest.raises(ExportError, match="set the Logs blade's time zone to UTC"):
        groups(write(tmp_path, "local.csv", local + row))


COLUMNS = json.dumps(
    [{"name": n} for n in ("TimeGenerated", "ContainerAppName", "RevisionName", "Log", "Reason")]
)
ROW = json.dumps(
    {
        "TimeGenerated": "2026-11-29T08:00:00Z",
        "ContainerAppName": "a",
        "RevisionName": "a--1",
        "Log": "x",
        "Reason": "",
    }
)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("", "the file is empty"),
        ("   \n", "the file is empty"),
        ('{"tables":[1]}', r"table 1 is a number \(1\), not an object"),
        ('{"tables": {"a": 1}}', '"tables" is an object, not a list'),
        (f'{{"tables": [{{"columns": {COLUMNS}, "rows": [[1]]}}]}}', "row 1 has 1 values for 5"),
        ('{"tables": [{"rows": []}]}', 'table 1 has no "columns"'),
        ('{"rows": []}', 'a JSON object without "tables" \\(keys: rows\\)'),
        ("[1, 2]", r"item 1 of the JSON list is a number \(1\), not a row object"),
        (f"[{ROW}, 3]", "item 2 of the JSON list is a number"),
        (f"[{ROW} {ROW}]", "expected \"',' or ']'\" but found"),
        (
            'Failed to pull image "a/b:1": not found\nRevision ready\n',
            r"not a supported export: found text starting 'Failed to pull image .*classify",
        ),
        ("\x00\x01binary", "not a supported export"),
    ],
)
def test_unsupported_files_get_one_line_naming_what_was_found(
    tmp_path: Path, content: str, words: str
) -> None:
    path = write(tmp_path, "odd.json", content)
    with pytest.raises(ExportError, match=words) as raised:
        groups(path)
    message = str(raised.value)
    assert "\n" not in message and message.startswith(str(path))


def test_summarized_rows_from_pullwatch_query_say_to_export_raw_rows(tmp_path: Path) -> None:
    names = ["Environment", "App", "Revision", "Signal", "Reason", "Count", "FirstSeen"]
    names += ["LastSeen", "LastIngested", "Samples", "ResourceId"]
    document = {
        "tables": [
            {
                "name": "PrimaryResult",
                "columns": [{"name": n, "type": "string"} for n in names],
                "rows": [["e", "a", "a--1", "failure", "", 3, "x", "y", None, "[]", ""]],
            }
        ]
    }
    with pytest.raises(ExportError, match="summarized rows from `pullwatch query`: export the raw"):
        groups(write(tmp_path, "summary.json", json.dumps(document)))
    listed = [dict(zip(names, document["tables"][0]["rows"][0], strict=True))]
    with pytest.raises(ExportError, match="summarized rows"):
        groups(write(tmp_path, "summary-list.json", json.dumps(listed)))
    lines = "".join(json.dumps(row) + "\n" for row in listed * 2)  # e.g. through `jq -c '.[]'`
    with pytest.raises(ExportError, match="summarized rows"):
        open_export(write(tmp_path, "summary.jsonl", lines))


def test_wrong_column_names_name_the_missing_and_the_found(tmp_path: Path) -> None:
    rows = [
        {
            "TimeGenerated": "2026-11-29T08:30:00Z",
            "ContainerAppName_s": "api",
            "RevisionName_s": "api--1",
            "Message": 'Failed to pull image "a/b:1": not found',
        }
    ]
    with pytest.raises(ExportError) as raised:
        groups(write(tmp_path, "export.json", json.dumps(rows)))
    assert str(raised.value).endswith(
        "missing columns: log text (Log or Log_s); reason (Reason or Reason_s); "
        "columns found: TimeGenerated, ContainerAppName_s, RevisionName_s, Message"
    )


def test_rows_are_streamed_not_loaded_whole(tmp_path: Path) -> None:
    columns, rows = sample_rows(RESOURCE_SAMPLE)
    path = write(tmp_path, "big.json", to_rest(columns, rows * 40))  # about 5 MB
    export = open_export(path)
    table = next(export.tables())
    next(table.rows)
    raw = export.text.buffer.raw  # type: ignore[attr-defined]
    assert raw._rest.tell() < path.stat().st_size / 2
    export.text.close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-29T08:01:00.1234567Z", datetime(2026, 11, 29, 8, 1, 0, 123456, tzinfo=UTC)),
        ("2026-11-29T10:01:00+02:00", datetime(2026, 11, 29, 8, 1, tzinfo=UTC)),
        ("2026-11-29 08:01:00", datetime(2026, 11, 29, 8, 1, tzinfo=UTC)),
        ("2023-10-06 21:41:33 +0000 UTC", datetime(2023, 10, 6, 21, 41, 33, tzinfo=UTC)),
        (
            "2023-10-06 21:41:33.123456789 -0700 MST m=+0.01",
            datetime(2023, 10, 7, 4, 41, 33, 123456, tzinfo=UTC),
        ),
        ("1/1/2025, 12:00:00.000 AM", datetime(2025, 1, 1, 0, 0, tzinfo=UTC)),
        ("1/1/2025, 12:30:05.250 PM", datetime(2025, 1, 1, 12, 30, 5, 250000, tzinfo=UTC)),
        ("11/29/2026, 8:01:00.440 PM", datetime(2026, 11, 29, 20, 1, 0, 440000, tzinfo=UTC)),
    ],
)
def test_every_time_spelling(text: str, expected: datetime) -> None:
    assert parse_time(text) == expected


def test_times_in_a_given_zone_and_out_of_range() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert parse_time("1/1/2025, 2:00:00 AM", zone=plus_two) == datetime(2025, 1, 1, tzinfo=UTC)
    for text in ("0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "2100-01-01T00:00:00Z"):
        with pytest.raises(ValueError, match="not between 2000 and 2099"):
            parse_time(text)
    for text in ("yesterday", "13/45/2025, 1:00:00 AM", "1/1/2025, 13:00:00 PM"):
        with pytest.raises(ValueError, match="is not a time"):
            parse_time(text)


def test_a_row_time_before_2000_names_the_row(tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = [
        {
            "TimeGenerated": t,
            "ContainerAppName": "a",
            "RevisionName": "a--1",
            "Log": "x",
            "Reason": "",
        }
        for t in ("2026-11-29T08:00:00Z", "0001-01-01T00:00:00Z")
    ]
    with pytest.raises(ExportError, match=r"row 2: '0001-01-01T00:00:00Z' is not between 2000"):
        groups(write(tmp_path, "old.json", json.dumps(rows)))


def test_encoding_detection_from_the_first_bytes() -> None:
    assert detect_encoding(b"\xef\xbb\xbf[") == "utf-8-sig"
    assert detect_encoding(b"\xff\xfe[\x00") == "utf-16"
    assert detect_encoding('[{"a": 1}]'.encode("utf-16-le")) == "utf-16-le"
    assert detect_encoding('[{"a": 1}]'.encode("utf-16-be")) == "utf-16-be"
    assert detect_encoding(b'[{"a": "\xc3\xa9"}]') == "utf-8-sig"


def test_rows_after_now_are_left_out_and_said(tmp_path: Path) -> None:
    rows = [
        {
            "TimeGenerated": t,
            "ContainerAppName": "a",
            "RevisionName": "a--1",
            "Log": 'Failed to pull image "a/b:1": not found',
            "Reason": "Failed",
        }
        for t in ("2026-11-29T08:30:00Z", "2026-11-29T09:30:00Z", "2026-11-29T10:00:00Z")
    ]
    result = FileSource(write(tmp_path, "e.json", json.dumps(rows)), HOUR).fetch(now=NOW)
    [group] = result.groups
    assert group.count == 1 and group.last_seen == datetime(2026, 11, 29, 8, 30, tzinfo=UTC)
    assert result.warnings == (
        f"{tmp_path / 'e.json'}: 2 row(s) after 2026-11-29T09:00:00Z (the tick's now) were left out",
    )


def test_the_committed_samples_read_as_their_formats() -> None:
    folder = LEGACY_SAMPLE.parent
    expected = {
        "containerapp-system-logs.json": ExportFormat.REST,
        "containerapp-system-logs-cl.json": ExportFormat.AZ_LIST,
        "az-containerapp-logs-system.jsonl": ExportFormat.CONTAINERAPP,
        "logs-blade-export.csv": ExportFormat.CSV,
    }
    for name, kind in expected.items():
        export = open_export(folder / name)
        export.text.close()
        assert export.format is kind, name
    inventory = {g for g in without_environment(groups(LEGACY_SAMPLE)) if g.app == "inventory"}
    assert without_environment(groups(folder / "az-containerapp-logs-system.jsonl")) == inventory
    assert groups(folder / "logs-blade-export.csv") == groups(RESOURCE_SAMPLE)


def test_the_committed_samples_are_what_the_writers_write(tmp_path: Path) -> None:
    folder = LEGACY_SAMPLE.parent
    _, legacy = sample_rows(LEGACY_SAMPLE)
    inventory = [r for r in legacy if r["ContainerAppName_s"] == "inventory"]
    stream = (folder / "az-containerapp-logs-system.jsonl").read_text("utf-8")
    assert stream == to_containerapp_lines(inventory)
    columns, rows = sample_rows(RESOURCE_SAMPLE)
    written = write_portal_csv(tmp_path / "x.csv", columns, rows).read_bytes()
    assert (folder / "logs-blade-export.csv").read_bytes() == written


def test_write_portal_csv_puts_a_bom(tmp_path: Path) -> None:
    columns, rows = sample_rows(RESOURCE_SAMPLE)
    path = write_portal_csv(tmp_path / "x.csv", columns, rows[:3])
    assert path.read_bytes().startswith(b"\xef\xbb\xbfTenantId,SourceSystem,TimeGenerated [UTC],")
