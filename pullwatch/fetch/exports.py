"""Read log exports of any supported format, streamed, as row mappings by column name.

The format is recognised from the content, never from the file name:

* ``rest``: the Log Analytics query API document ``{"tables": [{"columns": [...], "rows": [...]}]}``;
* ``az-list``: ``az monitor log-analytics query -o json``, a JSON list of row objects;
* ``containerapp``: ``az containerapp logs show --type system --format json``: one object per line,
  ``TimeStamp`` like ``2023-10-06 21:41:33 +0000 UTC`` and the text in ``Msg``; the CLI unescapes
  quotes inside ``Msg`` (platform-facts §9), so a line may not be valid JSON: such lines are
  repaired (the bare quotes inside the one free-text value are escaped again);
* ``csv``: the Logs blade's CSV export, ``TimeGenerated [UTC]`` in the header and times like
  ``1/1/2025, 12:00:00.000 AM``;

each in UTF-8 (with or without a byte-order mark) or UTF-16 (with a BOM, or without one when the
zero bytes give it away). Other JSON lines of row objects are read as such.

Nothing is loaded whole: JSON documents are walked with a small cursor that decodes one row at a
time (``json``'s C scanner on a sliding buffer), CSV and JSON lines are read line by line. The
reader renames only what a format spells differently (``TimeStamp`` → ``TimeGenerated``, ``Msg``
→ ``Log``, ``TimeGenerated [UTC]`` → ``TimeGenerated``); which columns are needed is the
caller's business (``pullwatch.fetch.filesource``). ``parse_time`` reads every time spelling
above. Errors are one-line ``ExportError``s naming the file and what was found.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from pullwatch.durations import EARLIEST, LATEST
from pullwatch.errors import ExportError

CHUNK = 1 << 20  # characters read at a time
HEAD = 1 << 16  # bytes looked at to recognise the encoding and the format
MAX_VALUE = 64 << 20  # one JSON row (or CSV field) larger than this is refused


class ExportFormat(StrEnum):
    REST = "rest"
    AZ_LIST = "az-list"
    CONTAINERAPP = "containerapp"
    JSON_LINES = "json-lines"
    CSV = "csv"
    TEXT = "text"  # not an export: plain log lines (only `classify` reads those)


FORMAT_NAMES: Mapping[ExportFormat, str] = {
    ExportFormat.REST: 'Log Analytics query API JSON ({"tables": [...]})',
    ExportFormat.AZ_LIST: "az monitor log-analytics query -o json",
    ExportFormat.CONTAINERAPP: "az containerapp logs show --format json",
    ExportFormat.JSON_LINES: "JSON lines of row objects",
    ExportFormat.CSV: "the Logs blade's CSV export",
    ExportFormat.TEXT: "plain text, one log line per line",
}
SUPPORTED = (
    'Log Analytics query API JSON ({"tables": [...]}), az monitor log-analytics query -o json, '
    "az containerapp logs show --type system --format json, or the Logs blade's CSV export"
)


@dataclass
class Table:
    """One table of an export: its columns (as the reader names them) and its rows, streamed."""

    columns: tuple[str, ...]
    rows: Iterator[dict[str, Any]]


@dataclass
class Export:
    """An open export: the detected encoding and format, its tables, and what was skipped."""

    name: str  # the file name, for messages
    encoding: str
    format: ExportFormat
    text: IO[str]
    warnings: list[str] = field(default_factory=list)

    @property
    def description(self) -> str:
        return FORMAT_NAMES[self.format]

    def tables(self) -> Iterator[Table]:
        """Every table, in order; consume a table's rows before asking for the next table."""
        readers = {
            ExportFormat.REST: self._rest_tables,
            ExportFormat.AZ_LIST: self._list_tables,
            ExportFormat.CONTAINERAPP: self._line_tables,
            ExportFormat.JSON_LINES: self._line_tables,
            ExportFormat.CSV: self._csv_tables,
        }
        if self.format is ExportFormat.TEXT:
            raise self.fail(f"plain text is not an export; supported: {SUPPORTED}")
        yield from readers[self.format]()

    def fail(self, problem: str) -> ExportError:
        return ExportError(f"{self.name}: {problem}")

    # --- JSON documents -------------------------------------------------------------------

    def _rest_tables(self) -> Iterator[Table]:
        cursor = _Cursor(self.text, self)
        cursor.take("{")
        found: list[str] = []
        for key in cursor.members():
            found.append(key)
            if key != "tables":
                cursor.value()  # "error" (partial results), "statistics", "render": not rows
                continue
            if cursor.peek() != "[":
                raise self.fail(f'"tables" is {_kind(cursor.value())}, not a list of tables')
            cursor.take("[")
            for position in cursor.items():
                yield from self._rest_table(cursor, position)
        if "tables" not in found:
            keys = ", ".join(found[:8]) or "none"
            raise self.fail(
                f'a JSON object without "tables" (keys: {keys}); supported: {SUPPORTED}'
            )

    def _rest_table(self, cursor: _Cursor, position: int) -> Iterator[Table]:
        if cursor.peek() != "{":
            raise self.fail(
                f"table {position} is {_kind(cursor.value())}, not an object with "
                '"columns" and "rows"'
            )
        cursor.take("{")
        names: list[str] | None = None
        early_rows: list[Any] | None = None
        seen_rows = False
        for key in cursor.members():
            if key == "columns":
                names = _column_names(cursor.value(), position, self)
                if early_rows is not None:
                    yield Table(tuple(names), self._zip_rows(names, iter(early_rows)))
            elif key == "rows":
                seen_rows = True
                if cursor.peek() != "[":
                    raise self.fail(f'table {position}: "rows" is {_kind(cursor.value())}')
                if names is None:  # rows before columns: rare; held until the columns come
                    early_rows = list(_drain(cursor))
                    continue
                rows = self._zip_rows(names, _drain(cursor))
                yield Table(tuple(names), rows)
                for _ in rows:  # whatever the caller did not read
                    pass
            else:
                cursor.value()
        if names is None:
            raise self.fail(f'table {position} has no "columns"')
        if not seen_rows:
            raise self.fail(f'table {position} has no "rows"')

    def _zip_rows(self, names: list[str], rows: Iterator[Any]) -> Iterator[dict[str, Any]]:
        width = len(names)
        for number, row in enumerate(rows, start=1):
            if not isinstance(row, list):
                raise self.fail(f"row {number} is {_kind(row)}, not a list of values")
            if len(row) != width:
                raise self.fail(f"row {number} has {len(row)} values for {width} columns")
            yield dict(zip(names, row, strict=True))

    def _list_tables(self) -> Iterator[Table]:
        cursor = _Cursor(self.text, self)
        items = _drain(cursor)
        first = next(items, None)
        if first is None:
            return
        if not isinstance(first, dict):
            raise self.fail(f"item 1 of the JSON list is {_kind(first)}, not a row object")

        def rows() -> Iterator[dict[str, Any]]:
            yield first
            for number, item in enumerate(items, start=2):
                if not isinstance(item, dict):
                    raise self.fail(
                        f"item {number} of the JSON list is {_kind(item)}, not a row object"
                    )
                yield item

        yield Table(tuple(first), rows())

    # --- JSON lines -----------------------------------------------------------------------

    def _line_tables(self) -> Iterator[Table]:
        lines = _numbered_lines(self.text)
        first: dict[str, Any] | None = None
        for number, line, last in lines:
            first = self._line_object(number, line, last)
            if first is not None:
                break
        if first is None:
            return
        rename = self.format is ExportFormat.CONTAINERAPP

        def rows() -> Iterator[dict[str, Any]]:
            assert first is not None
            yield _containerapp_row(first) if rename else first
            for number, line, last in lines:
                record = self._line_object(number, line, last)
                if record is not None:
                    yield _containerapp_row(record) if rename else record

        columns = _containerapp_row(first) if rename else first
        yield Table(tuple(columns), rows())

    def _line_object(self, number: int, line: str, last: bool) -> dict[str, Any] | None:
        if not line.strip():
            return None
        record = parse_json_line(line)
        if record is not None:
            return record
        if last:
            self.warnings.append(
                f"{self.name}: line {number} is not complete JSON (the file was cut off?); "
                "it was skipped"
            )
            return None
        raise self.fail(f"line {number} is not a JSON object: {_quote(line)}")

    # --- CSV ------------------------------------------------------------------------------

    def _csv_tables(self) -> Iterator[Table]:
        header_line = self.text.readline()
        delimiter = _csv_delimiter(header_line)
        [header] = list(csv.reader([header_line], delimiter=delimiter))
        columns = [_csv_column(name, self) for name in header]
        zone = _csv_zone(header, self)
        width = len(columns)
        if csv.field_size_limit() < MAX_VALUE:
            csv.field_size_limit(MAX_VALUE)
        reader = csv.reader(self.text, delimiter=delimiter, strict=False)

        def rows() -> Iterator[dict[str, Any]]:
            pending: list[str] | None = None
            number = 1
            try:
                for record in reader:
                    if pending is not None:
                        yield self._csv_row(columns, pending, number, zone)
                    pending = record
                    number += 1
            except csv.Error as error:
                raise self.fail(f"row {number}: {error}") from None
            if pending is None:
                return
            if len(pending) != width and pending != [] and number > 1:
                self.warnings.append(
                    f"{self.name}: the last row has {len(pending)} fields for {width} columns "
                    "(the file was cut off?); it was skipped"
                )
                return
            yield self._csv_row(columns, pending, number, zone)

        yield Table(tuple(columns), rows())

    def _csv_row(
        self, columns: list[str], record: list[str], number: int, zone: timezone
    ) -> dict[str, Any]:
        if not record:
            return {}
        if len(record) != len(columns):
            raise self.fail(f"row {number} has {len(record)} fields for {len(columns)} columns")
        row: dict[str, Any] = dict(zip(columns, record, strict=True))
        if zone is not UTC and row.get("TimeGenerated"):
            row["TimeGenerated"] = _csv_time(row["TimeGenerated"], zone)
        return row


# --- opening and recognising -----------------------------------------------------------------


def open_export(path: str | Path, *, text_ok: bool = False) -> Export:
    """Open ``path`` and recognise its encoding and format (``ExportError`` when unsupported;
    ``text_ok`` as for ``read_export``). Close it with ``.text.close()``."""
    name = str(path)
    try:
        binary = Path(path).open("rb")  # noqa: SIM115 - the Export owns it (closed with .text)
    except OSError as error:
        raise ExportError(f"cannot read {name}: {error.strerror}") from None
    try:
        return read_export(binary, name, text_ok=text_ok)
    except BaseException:
        binary.close()
        raise


def read_export(binary: IO[bytes], name: str, *, text_ok: bool = False) -> Export:
    """Recognise the export on a binary stream (a file or stdin); nothing is read past the head.
    ``text_ok``: plain text is ``ExportFormat.TEXT`` (its lines in ``.text``), not an error."""
    head, complete = _peek(binary)
    encoding = detect_encoding(head)
    start = _decode_head(head, encoding)
    try:
        kind = detect_format(start, name, complete=complete)
    except ExportError:
        if not text_ok or _looks_like_json(start):
            raise
        kind = ExportFormat.TEXT
    text = io.TextIOWrapper(
        io.BufferedReader(_Replay(head, binary), CHUNK),
        encoding=encoding,
        errors="replace",  # odd bytes in log text read as U+FFFD, as the CLI does everywhere
        newline="",
    )
    return Export(name=name, encoding=encoding, format=kind, text=text)


def detect_encoding(head: bytes) -> str:
    """``utf-8-sig`` (with or without BOM), or ``utf-16`` (BOM) / ``utf-16-le``/``-be`` (no BOM)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:512]
    if len(sample) >= 4:
        odd_zeros = sample[1::2].count(0)
        even_zeros = sample[0::2].count(0)
        half = len(sample) // 2
        if odd_zeros > half * 0.4 and even_zeros < half * 0.1:
            return "utf-16-le"
        if even_zeros > half * 0.4 and odd_zeros < half * 0.1:
            return "utf-16-be"
    return "utf-8-sig"  # also reads plain UTF-8


_REST_START = re.compile(r'\A\s*\{\s*"tables"\s*:')
_CSV_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_ .\-]*(\s*\[[^\]]*\])?")


def detect_format(start: str, name: str, *, complete: bool = False) -> ExportFormat:
    """The format of an export that begins with ``start`` (the whole file when ``complete``);
    ``ExportError`` when it is none of the supported ones."""
    text = start.lstrip("\ufeff")
    stripped = text.lstrip()
    if not stripped:
        raise ExportError(f"{name}: the file is empty; supported: {SUPPORTED}")
    if _REST_START.match(text):
        return ExportFormat.REST
    if stripped.startswith("["):
        return ExportFormat.AZ_LIST
    if stripped.startswith("{"):
        first_line, newline, _ = stripped.partition("\n")
        whole_line = bool(newline) or complete
        record = parse_json_line(first_line) if whole_line else None
        if record is None:
            # a pretty-printed or compact JSON document (its errors are reported while read),
            # or JSON lines whose first line is broken
            if not whole_line or first_line.rstrip().endswith(("{", "[", ",")):
                return ExportFormat.REST
            return ExportFormat.JSON_LINES
        if "tables" in record or any(isinstance(v, (dict, list)) for v in record.values()):
            return ExportFormat.REST  # a document on one line, not a row per line
        if is_summary(list(record)):
            raise ExportError(f"{name}: {SUMMARY_ROWS}")
        if "TimeStamp" in record or "Msg" in record:
            return ExportFormat.CONTAINERAPP
        return ExportFormat.JSON_LINES
    first_line = stripped.split("\n", 1)[0].rstrip("\r")
    delimiter = _csv_delimiter(first_line)
    fields = next(csv.reader([first_line], delimiter=delimiter), [])
    if len(fields) >= 3 and all(_CSV_FIELD.fullmatch(f.strip()) for f in fields):
        return ExportFormat.CSV
    raise _unknown(first_line, name)


def _looks_like_json(start: str) -> bool:
    return start.lstrip("\ufeff").lstrip()[:1] in ("{", "[")


SUMMARY_ROWS = (
    "these are summarized rows from `pullwatch query`: export the raw rows instead (the table itself, e.g. "
    "`ContainerAppSystemLogs_CL | where TimeGenerated > ago(1h)`)"
)
SUMMARY_COLUMNS = frozenset({"Signal", "FirstSeen", "LastSeen", "Samples"})


def is_summary(columns: Sequence[str]) -> bool:
    """True for the answer of ``pullwatch query`` (groups, not raw rows)."""
    return set(columns) >= SUMMARY_COLUMNS


def _unknown(first_line: str, name: str) -> ExportError:
    hint = ""
    if re.search(r"(?i)pull|image|registry", first_line):
        hint = " (for log lines, use `pullwatch classify`)"
    return ExportError(
        f"{name}: not a supported export: found text starting {_quote(first_line)}{hint}; "
        f"supported: {SUPPORTED}"
    )


def _peek(binary: IO[bytes]) -> tuple[bytes, bool]:
    """The first bytes, up to the end of the first line that has content (so a pipe that writes
    slowly, like ``az containerapp logs show --follow``, is not waited on), and whether that
    was the whole stream."""
    read = getattr(binary, "read1", binary.read)
    head = b""
    while len(head) < HEAD:
        piece = read(HEAD - len(head))
        if not piece:
            return head, True
        head += piece
        content = head.lstrip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe")
        if b"\n" in content:
            break
    return head, False


def _decode_head(head: bytes, encoding: str) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return decoder.decode(head, final=False)


class _Replay(io.RawIOBase):
    """The bytes already read (the head), then the rest of the underlying stream."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            size = min(len(view), len(self._head))
            view[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._rest.close()
        super().close()


# --- the JSON cursor -------------------------------------------------------------------------

_DECODER = json.JSONDecoder(strict=False)
_NON_SPACE = re.compile(r"[^ \t\r\n]")


class _Cursor:
    """Walks a JSON document on a text stream, decoding one value at a time."""

    def __init__(self, text: IO[str], export: Export) -> None:
        self._text = text
        self._export = export
        self._buf = ""
        self._pos = 0
        self._eof = False
        self.values = 0  # values decoded (for messages)

    def _more(self, at_least: int = CHUNK) -> bool:
        if self._eof:
            return False
        piece = self._text.read(max(CHUNK, at_least))
        if not piece:
            self._eof = True
            return False
        self._buf = self._buf[self._pos :] + piece
        self._pos = 0
        return True

    def peek(self) -> str:
        """The next character that is not whitespace (``""`` at the end)."""
        while True:
            found = _NON_SPACE.search(self._buf, self._pos)
            if found:
                self._pos = found.start()
                return self._buf[self._pos]
            self._pos = len(self._buf)
            if not self._more():
                return ""

    def take(self, char: str) -> None:
        got = self.peek()
        if got != char:
            raise self._unexpected(char, got)
        self._pos += 1

    def _unexpected(self, wanted: str, got: str) -> ExportError:
        if not got:
            return self._export.fail(
                f"the JSON ends early, after {self.values} values (the file was cut off?)"
            )
        context = self._buf[self._pos : self._pos + 40]
        return self._export.fail(f"expected {wanted!r} but found {_quote(context)} in the JSON")

    def value(self) -> Any:
        """Decode the next value (the buffer grows until it holds all of it)."""
        if not self.peek():
            raise self._unexpected("a value", "")
        while True:
            try:
                item, end = _DECODER.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as error:
                held = len(self._buf) - self._pos
                cut = error.msg.startswith("Unterminated") or error.pos >= len(self._buf) - 16
                if cut and held > MAX_VALUE:
                    raise self._export.fail(f"a value larger than {MAX_VALUE >> 20} MB") from None
                if cut and self._more(held):
                    continue
                if cut:
                    raise self._unexpected("the rest of a value", "") from None
                raise self._export.fail(
                    f"not valid JSON after {self.values} values: {error.msg}"
                ) from None
            if end == len(self._buf) and not isinstance(item, (dict, list, str)) and self._more():
                continue  # a number or literal may go on in the next chunk
            self._pos = end
            self.values += 1
            return item

    def items(self) -> Iterator[int]:
        """After ``[``: yield 1, 2, ... before each element (the caller decodes it)."""
        position = 0
        if self.peek() == "]":
            self._pos += 1
            return
        while True:
            position += 1
            yield position
            got = self.peek()
            if got == ",":
                self._pos += 1
                continue
            if got == "]":
                self._pos += 1
                return
            raise self._unexpected("',' or ']'", got)

    def members(self) -> Iterator[str]:
        """After ``{``: yield each key (the caller decodes its value)."""
        if self.peek() == "}":
            self._pos += 1
            return
        while True:
            if self.peek() != '"':
                raise self._unexpected("a key", self.peek())
            key = self.value()
            self.take(":")
            yield str(key)
            got = self.peek()
            if got == ",":
                self._pos += 1
                continue
            if got == "}":
                self._pos += 1
                return
            raise self._unexpected("',' or '}'", got)


def _drain(cursor: _Cursor) -> Iterator[Any]:
    """After ``[`` (not yet taken): each element of the array, decoded."""
    cursor.take("[")
    for _ in cursor.items():
        yield cursor.value()


def _column_names(columns: Any, position: int, export: Export) -> list[str]:
    if not isinstance(columns, list):
        raise export.fail(f'table {position}: "columns" is {_kind(columns)}, not a list')
    names = []
    for column in columns:
        if not isinstance(column, dict) or not isinstance(column.get("name"), str):
            raise export.fail(f'table {position}: a column is {_kind(column)}, not {{"name": ...}}')
        names.append(column["name"])
    return names


def _kind(item: Any) -> str:
    if isinstance(item, bool) or item is None:
        return json.dumps(item)
    if isinstance(item, (int, float)):
        return f"a number ({item})"
    if isinstance(item, str):
        return f"a string ({_quote(item)})"
    if isinstance(item, list):
        return "a list"
    return "an object"


def _quote(text: str, limit: int = 60) -> str:
    flat = "".join(ch if ch.isprintable() else " " for ch in text.strip())
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")


# --- JSON lines ------------------------------------------------------------------------------

# Free-text values whose quotes the CLI may have unescaped, and where a value can end.
_TEXT_START = re.compile(r'"(?:Msg|Log|Log_s|Message)"\s*:\s*"')
_VALUE_END = re.compile(r'"(?=\s*,\s*"[A-Za-z_]\w*"\s*:|\s*\}\s*$)')
_ESCAPE = re.compile(r'\\(["\\/bfnrt]|u[0-9a-fA-F]{4})|\\|"')
CONTAINERAPP_KEYS = frozenset(
    {
        "TimeStamp",
        "Type",
        "ContainerAppName",
        "RevisionName",
        "ReplicaName",
        "Msg",
        "Reason",
        "EventSource",
        "Count",
        "ContainerName",
        "JobName",
        "ExecutionName",
    }
)


def parse_json_line(line: str) -> dict[str, Any] | None:
    """One JSON object per line; a line whose free text has bare quotes is repaired. ``None``
    when the line is not an object even after repair (cut off, or not JSON at all)."""
    try:
        record = _DECODER.decode(line)
    except json.JSONDecodeError:
        return _repaired(line)
    return record if isinstance(record, dict) else None


def _repaired(line: str) -> dict[str, Any] | None:
    start = _TEXT_START.search(line)
    if start is None:
        return None
    head = line[: start.end()]
    ends = list(_VALUE_END.finditer(line, start.end()))
    # The text most likely ends before the next known key ("Reason", "EventSource", ...): try
    # that first; else every place a value can end, keeping the reading with the most keys.
    likely = [e for e in ends if _next_key(line, e.end()) in CONTAINERAPP_KEYS]
    for end in likely[:1]:
        record = _decode_with(head, line[start.end() : end.start()], line[end.start() :])
        if record is not None:
            return record
    best: tuple[int, int, dict[str, Any]] | None = None
    for end in ends:
        record = _decode_with(head, line[start.end() : end.start()], line[end.start() :])
        if record is not None:
            score = (len(CONTAINERAPP_KEYS.intersection(record)) + len(record), end.start())
            if best is None or score > best[:2]:
                best = (*score, record)
    return best[2] if best else None


_NEXT_KEY = re.compile(r'\s*,\s*"([A-Za-z_]\w*)"')


def _next_key(line: str, position: int) -> str | None:
    match = _NEXT_KEY.match(line, position)
    return match.group(1) if match else None


def _decode_with(head: str, text: str, tail: str) -> dict[str, Any] | None:
    """``head + text + tail`` decoded, with the bare quotes (and lone backslashes) of ``text``
    escaped; ``None`` when that is not a JSON object."""
    inner = _ESCAPE.sub(_escape_bare, text) if "\\" in text else text.replace('"', '\\"')
    try:
        record = _DECODER.decode(head + inner + tail)
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


def _escape_bare(match: re.Match[str]) -> str:
    if match.group(1):
        return match.group(0)  # a valid escape stays
    return "\\\\" if match.group(0) == "\\" else '\\"'


def _containerapp_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """A log-stream object under the resource table's column names."""
    row = {
        ("TimeGenerated" if k == "TimeStamp" else "Log" if k == "Msg" else k): v
        for k, v in record.items()
    }
    return row


def _numbered_lines(text: IO[str]) -> Iterator[tuple[int, str, bool]]:
    """(number, line, is_last) for each line, reading one line ahead."""
    previous: str | None = None
    number = 0
    for line in text:
        if previous is not None:
            yield number, previous, False
        previous = line
        number += 1
    if previous is not None:
        yield number, previous, not previous.endswith("\n")


# --- CSV -------------------------------------------------------------------------------------

_BRACKET = re.compile(r"^(?P<name>.*?)\s*\[(?P<zone>[^\]]*)\]\s*$")
_OFFSET = re.compile(r"^UTC\s*(?P<sign>[+-])(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?$")


def _csv_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d])


def _csv_column(name: str, export: Export) -> str:
    name = name.strip().lstrip("\ufeff")
    match = _BRACKET.match(name)
    return match.group("name") if match else name


def _csv_zone(header: Sequence[str], export: Export) -> timezone:
    """The time zone the portal wrote times in (from ``TimeGenerated [UTC]``)."""
    for raw in header:
        match = _BRACKET.match(raw.strip().lstrip("\ufeff"))
        if not match or match.group("name") != "TimeGenerated":
            continue
        zone = match.group("zone").strip()
        if zone.upper() == "UTC":
            return UTC
        offset = _OFFSET.match(zone.upper())
        if offset:
            minutes = int(offset.group("hours")) * 60 + int(offset.group("minutes") or 0)
            sign = -1 if offset.group("sign") == "-" else 1
            return timezone(sign * timedelta(minutes=minutes))
        raise export.fail(
            f"times are in {zone!r} (column {raw.strip()!r}): set the Logs blade's time zone "
            "to UTC and export again"
        )
    return UTC


def _csv_time(value: str, zone: timezone) -> datetime:
    moment = parse_time(value, zone=zone)
    return moment.astimezone(UTC)


# --- times -----------------------------------------------------------------------------------

_GO_TIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d{1,9}))?"
    r"\s*(?:(?P<sign>[+-])(?P<hours>\d{2}):?(?P<minutes>\d{2}))?\s*(?:[A-Z]{1,5})?"
    r"(?:\s+m=[+-][\d.]+)?$"
)
_PORTAL_TIME = re.compile(
    r"^(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4}),?\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,7}))?)?\s*(?P<half>[AaPp][Mm])?$"
)


def parse_time(value: Any, *, zone: timezone = UTC) -> datetime:
    """A row's time in any supported spelling, as an aware UTC datetime (``ValueError`` else).

    ISO 8601 (``2026-11-29T08:01:00.1234567Z``), Go's ``2023-10-06 21:41:33 +0000 UTC`` (log
    stream) and the portal's ``11/29/2026, 8:01:00.000 AM``; times without a zone are in ``zone``.
    Times before 2000 or after 2099 are refused (they are not log times)."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        moment = _parse_text_time(text, zone)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    if not EARLIEST <= moment < LATEST:
        raise ValueError(f"{_quote(str(value), 40)} is not between 2000 and 2099")
    return moment.astimezone(UTC)


def _parse_text_time(text: str, zone: timezone) -> datetime:
    if "/" not in text and " +" not in text and " -" not in text:  # not portal, not Go
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
    go = _GO_TIME.match(text)
    if go:
        fraction = (go.group("fraction") or "").ljust(6, "0")[:6]
        moment = datetime.fromisoformat(f"{go.group('date')}T{go.group('time')}.{fraction}")
        if go.group("sign"):
            minutes = int(go.group("hours")) * 60 + int(go.group("minutes"))
            sign = -1 if go.group("sign") == "-" else 1
            return moment.replace(tzinfo=timezone(sign * timedelta(minutes=minutes)))
        return moment.replace(tzinfo=UTC)
    portal = _PORTAL_TIME.match(text)
    if portal:
        hour = int(portal.group("hour"))
        half = (portal.group("half") or "").upper()
        if half and not 1 <= hour <= 12:
            raise ValueError(f"{_quote(text, 40)} is not a time")
        if half:
            hour = hour % 12 + (12 if half == "PM" else 0)
        fraction = (portal.group("fraction") or "").ljust(6, "0")[:6]
        try:
            return datetime(
                int(portal.group("year")),
                int(portal.group("month")),
                int(portal.group("day")),
                hour,
                int(portal.group("minute")),
                int(portal.group("second") or 0),
                int(fraction),
                tzinfo=zone,
            )
        except ValueError:
            raise ValueError(f"{_quote(text, 40)} is not a time") from None
    raise ValueError(f"{_quote(text, 40)} is not a time")
