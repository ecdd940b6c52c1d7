"""Write log exports the way the tools engineers use write them, from rows read with plain ``json``.

Used by the export-format tests and by ``benchmarks/export_bench.py``. Each writer reproduces the
tool's output as documented or observed (platform-facts §1, §9):

* ``to_rest``: the Log Analytics query API document ``{"tables": [{"name", "columns", "rows"}]}``;
* ``to_az_list``: ``az monitor log-analytics query -o json``, a list of row objects with
  ``TableName`` first and every value as text;
* ``to_containerapp_lines``: ``az containerapp logs show --type system --format json``: one
  object per line with ``TimeStamp`` in Go's ``2023-10-06 21:41:33 +0000 UTC`` form and ``Msg``;
  the service escapes like .NET (``"`` as ``\\u0022``, ``'`` as ``\\u0027``, ``+`` as ``\\u002B``)
  and the CLI turns those back into bare characters, so a message with quotes is not valid JSON;
* ``to_portal_csv``: the Logs blade's CSV export: ``TimeGenerated [UTC]`` in the header and times
  like ``11/29/2026, 8:01:00.000 AM`` (written with a BOM by ``write_portal_csv``).

Nothing here imports pullwatch: the files are built independently of the code that reads them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Row = dict[str, Any]


def sample_rows(path: Path) -> tuple[list[str], list[Row]]:
    """The columns and rows of a bundled sample (either shape), by column name."""
    document = json.loads(path.read_text("utf-8"))
    if isinstance(document, dict):
        [table] = document["tables"]
        columns = [c["name"] for c in table["columns"]]
        return columns, [dict(zip(columns, r, strict=True)) for r in table["rows"]]
    return list(document[0]), [dict(r) for r in document]


def value(row: Mapping[str, Any], name: str) -> Any:
    """A column of either table flavour by its plain name (``Log`` or ``Log_s``)."""
    for key in (name, f"{name}_s", f"{name}_d"):
        if key in row and row[key] is not None:
            return row[key]
    return ""


def _time(row: Mapping[str, Any]) -> datetime:
    text = str(row["TimeGenerated"]).replace("Z", "+00:00")
    head, _, rest = text.partition(".")
    if rest:  # Log Analytics writes 7 fractional digits; Python reads at most 6
        digits = rest.split("+")[0]
        text = f"{head}.{digits[:6].ljust(6, '0')}+00:00"
    return datetime.fromisoformat(text).astimezone(UTC)


def to_rest(columns: Sequence[str], rows: Iterable[Row]) -> str:
    """The query API's ``{"tables": [...]}`` document, one row per line."""
    head = json.dumps(
        {"name": "PrimaryResult", "columns": [{"name": c, "type": "string"} for c in columns]}
    )
    body = ",\n".join(json.dumps([row.get(c) for c in columns]) for row in rows)
    return '{"tables": [' + head[:-1] + ', "rows": [\n' + body + "\n]}]}\n"


def to_az_list(columns: Sequence[str], rows: Iterable[Row]) -> str:
    """``az monitor log-analytics query -o json``: row objects, values as text, indented."""
    names = ["TableName", *[c for c in columns if c != "TableName"]]
    parts = []
    for row in rows:
        record = {n: "PrimaryResult" if n == "TableName" else _text(row.get(n)) for n in names}
        parts.append(json.dumps(record, indent=2))
    return "[\n" + ",\n".join(parts) + "\n]\n"


def _text(item: Any) -> Any:
    return item if item is None or isinstance(item, str) else str(item)


def go_time(moment: datetime) -> str:
    """Go's ``time.Time.String()`` in UTC: ``2023-10-06 21:41:33.5 +0000 UTC``."""
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + " +0000 UTC"


_DOTNET_ESCAPES = {'"': "\\u0022", "'": "\\u0027", "+": "\\u002B", "<": "\\u003C", ">": "\\u003E"}
_CLI_UNESCAPES = ("\\u0022", '"'), ("\\u001B", "\x1b"), ("\\u002B", "+"), ("\\u0027", "'")


def _dotnet_string(text: str) -> str:
    """A JSON string escaped as System.Text.Json does (HTML-sensitive characters as \\uXXXX)."""
    inner = json.dumps(text, ensure_ascii=False)[1:-1].replace('\\"', '"')
    inner = "".join(_DOTNET_ESCAPES.get(ch, ch) for ch in inner)
    return '"' + inner.replace("\\u001b", "\\u001B") + '"'


def containerapp_line(row: Mapping[str, Any]) -> str:
    """One line of ``az containerapp logs show --type system --format json`` for ``row``."""
    fields: list[tuple[str, Any]] = [
        ("TimeStamp", go_time(_time(row))),
        ("ContainerAppName", value(row, "ContainerAppName")),
        ("RevisionName", value(row, "RevisionName")),
        ("ReplicaName", value(row, "ReplicaName")),
        ("Msg", value(row, "Log")),
        ("Reason", value(row, "Reason")),
        ("EventSource", value(row, "EventSource")),
        ("Count", int(float(value(row, "Count") or 1))),
        ("Type", row.get("Type_s") or (row.get("Type") if "Log" in row else "") or "Normal"),
    ]
    served = "{" + ",".join(
        f'"{k}":{v if isinstance(v, int) else _dotnet_string(str(v))}' for k, v in fields
    )
    served += "}"
    for escaped, bare in _CLI_UNESCAPES:  # what the CLI prints (azure-cli containerapp custom.py)
        served = served.replace(escaped, bare)
    return served


def to_containerapp_lines(rows: Iterable[Row]) -> str:
    return "".join(containerapp_line(row) + "\n" for row in rows)


def portal_time(moment: datetime) -> str:
    """The Logs blade's display time: ``11/29/2026, 8:01:00.000 AM``."""
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    millis = moment.microsecond // 1000
    return (
        f"{moment.month}/{moment.day}/{moment.year}, "
        f"{hour}:{moment.minute:02d}:{moment.second:02d}.{millis:03d} {half}"
    )


def to_portal_csv(columns: Sequence[str], rows: Iterable[Row]) -> str:
    """The Logs blade's "Export to CSV (all columns)": ``TimeGenerated [UTC]``, US times, CRLF."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([f"{c} [UTC]" if c == "TimeGenerated" else c for c in columns])
    for row in rows:
        writer.writerow(
            [portal_time(_time(row)) if c == "TimeGenerated" else _csv(row.get(c)) for c in columns]
        )
    return out.getvalue()


def _csv(item: Any) -> str:
    return "" if item is None else str(item)


def write_portal_csv(path: Path, columns: Sequence[str], rows: Iterable[Row]) -> Path:
    path.write_text(to_portal_csv(columns, rows), encoding="utf-8-sig", newline="")
    return path


def storm(rows: Sequence[Row], copies: int) -> Iterator[Row]:
    """``rows`` repeated ``copies`` times, each copy for other apps (``<app>-c<n>``)."""
    for copy in range(copies):
        yield from storm_copy(rows, copy)


def storm_copy(rows: Sequence[Row], copy: int) -> list[Row]:
    """``rows`` for apps renamed ``<app>-c<copy>`` (revisions ``<app>-c<copy>--<suffix>``)."""
    changed_rows = []
    for row in rows:
        changed = dict(row)
        for name in ("ContainerAppName", "ContainerAppName_s"):
            if name in changed:
                changed[name] = f"{changed[name]}-c{copy}"
        for name in ("RevisionName", "RevisionName_s"):
            if name in changed and "--" in str(changed[name]):
                app, _, suffix = str(changed[name]).partition("--")
                changed[name] = f"{app}-c{copy}--{suffix}"
        changed_rows.append(changed)
    return changed_rows
