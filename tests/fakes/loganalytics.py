"""A fake Log Analytics query endpoint that really executes the posted KQL (a pytest plugin).

Register with ``pytest_plugins = ["tests.fakes.loganalytics"]`` (``tests/conftest.py`` does) and
ask for the ``log_analytics`` fixture::

    def test_reads_failures(log_analytics: FakeLogAnalytics) -> None:
        log_analytics.load_export(SAMPLES / "containerapp-system-logs.json")
        source = log_analytics.source()              # the real LogsQueryClient, plain http
        result = source.fetch(now=END_OF_WINDOW)

The endpoint (``.endpoint``, ``http://localhost:<port>/v1``) speaks the query API's wire format
(platform-facts §3): ``POST /v1/workspaces/{id}/query`` with ``{"query", "timespan"}`` and a
bearer token; the answer is ``{"tables": [{"name", "columns", "rows"}]}``. The query runs with
duckdb-kql over DuckDB tables built from ``tools/kusto/schemas.json`` (the system-log tables and
``AzureActivity``) plus an ingestion-time column: ``ingestion_time()`` is replaced by
``INGESTION_COLUMN`` in the query text (only here). Dynamic columns (``Properties_d``) are loaded
from JSON text, as exports hold them.

Like Log Analytics it answers a table the workspace does not have: in a ``union isfuzzy=true``
with a warning (``PartialError`` with a Warning-severity detail, "Failed to resolve table
expression named '<table>'"), and with HTTP 400 when no leg resolves or the query is not fuzzy.

Scripted answers (each used once, in order, before normal answers resume):

* ``fail_next(status, body=None, headers=None)``: e.g. 400, 403, 429 (with ``Retry-After``), 503.
* ``partial_next(message, severity="Error")``: the data plus a ``PartialError``.
* ``empty_next()``: a well-formed answer with no rows.

``requests`` records each request's JSON body and workspace; ``source()`` and ``client()`` build
the real ``LogsQueryClient``/``LogAnalyticsSource`` against the fake with a fake credential,
``enforce_https=False`` and no back-off sleeps.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import duckdb_kql
import pytest
from azure.core.credentials import AccessToken
from azure.monitor.query import LogsQueryClient
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pullwatch.fetch.activity import ACTIVITY_TABLE
from pullwatch.fetch.logquery import LogAnalyticsSource, make_logs_client
from pullwatch.settings import ActivityMode, TableMode

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tools" / "kusto" / "schemas.json"
INGESTION_COLUMN = "_IngestionTime"
DEFAULT_WORKSPACE = "11111111-2222-3333-4444-555555555555"
DEFAULT_LATENCY = timedelta(minutes=5)  # TimeGenerated -> ingestion when a row gives none
FAKE_TOKEN = "fake-log-analytics-token"
_SQL_TYPES = {"string": "VARCHAR", "datetime": "TIMESTAMP", "int": "INTEGER", "long": "BIGINT"}
_SQL_TYPES |= {"real": "DOUBLE", "bool": "BOOLEAN", "dynamic": "JSON", "guid": "VARCHAR"}
_WORKSPACE_PATH = re.compile(r"^/v1/workspaces/([^/]+)/query$")


class FakeCredential:
    """A TokenCredential that hands out a fixed token (and counts the requests for one)."""

    def __init__(self) -> None:
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls += 1
        return AccessToken(FAKE_TOKEN, int(time.time()) + 3600)


@dataclass(frozen=True)
class _Scripted:
    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    partial: Mapping[str, Any] | None = None  # data plus this "error" object
    empty: bool = False


@dataclass(frozen=True)
class Received:
    workspace: str
    body: Mapping[str, Any]
    authorization: str

    @property
    def query(self) -> str:
        return str(self.body.get("query", ""))


def _schemas() -> dict[str, dict[str, str]]:
    tables: dict[str, dict[str, str]] = json.loads(SCHEMAS.read_text(encoding="utf-8"))["tables"]
    return tables


def _to_datetime(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(tzinfo=None)  # DuckDB TIMESTAMP is naive UTC


def _cell(kusto_type: str, value: Any) -> Any:
    if value is None:
        return None
    if kusto_type == "datetime":
        return _to_datetime(value)
    if kusto_type in ("int", "long"):
        return int(float(value)) if value != "" else None
    if kusto_type == "real":
        return float(value) if value != "" else None
    if kusto_type == "bool":
        return str(value).lower() == "true"
    return str(value)


class FakeLogAnalytics:
    """The fake endpoint: load rows per workspace and table, script failures, inspect requests."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.endpoint = server.url_for("/v1")
        self.workspace_id = DEFAULT_WORKSPACE
        self.schemas = _schemas()
        self.requests: list[Received] = []
        self.credential = FakeCredential()
        self._script: list[_Scripted] = []
        self._by_workspace: dict[str, list[_Scripted]] = {}
        self.delay = 0.0  # seconds each answer takes (a slow workspace; use a threaded server)
        self._workspaces: dict[str, duckdb.DuckDBPyConnection] = {}
        self._present: dict[str, set[str]] = {}
        server.expect_request(_WORKSPACE_PATH, method="POST").respond_with_handler(self._handle)

    # --- data ---------------------------------------------------------------------------------

    def _connection(self, workspace: str) -> duckdb.DuckDBPyConnection:
        if workspace not in self._workspaces:
            con = duckdb_kql.connect()
            for table, columns in self.schemas.items():
                defs = [f'"{c}" {_SQL_TYPES[t]}' for c, t in columns.items()]
                defs.append(f'"{INGESTION_COLUMN}" TIMESTAMP')
                con.execute(f'CREATE TABLE "{table}" ({", ".join(defs)})')
            self._workspaces[workspace] = con
            self._present[workspace] = set()
        return self._workspaces[workspace]

    def load_rows(
        self,
        table: str,
        rows: Iterable[Mapping[str, Any]],
        *,
        workspace: str | None = None,
        ingested: datetime | None = None,
    ) -> int:
        """Add raw rows (column name -> value, strings accepted) to ``table``; the table then
        exists in the workspace even if ``rows`` is empty. Each row's ingestion time is its
        ``INGESTION_COLUMN`` value, else ``ingested``, else TimeGenerated + 5 minutes."""
        if table not in self.schemas:
            raise KeyError(f"no schema for {table} in {SCHEMAS}")
        workspace = workspace or self.workspace_id
        con = self._connection(workspace)
        self._present[workspace].add(table)
        columns = self.schemas[table]
        names = [*columns, INGESTION_COLUMN]
        values = []
        for row in rows:
            record = [_cell(columns[c], row.get(c)) for c in columns]
            when = _to_datetime(row.get(INGESTION_COLUMN)) or _to_datetime(ingested)
            if when is None:
                generated = _to_datetime(row.get("TimeGenerated"))
                when = generated + DEFAULT_LATENCY if generated else None
            values.append([*record, when])
        if values:
            marks = ", ".join("?" for _ in names)
            quoted = ", ".join(f'"{n}"' for n in names)
            # Identifiers come from schemas.json; the values are bound parameters.
            insert = f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})'  # noqa: S608
            con.executemany(insert, values)
        return len(values)

    def load_export(self, path: str | Path, *, workspace: str | None = None) -> str:
        """Load a ``samples/`` export (either shape); returns the table it went to."""
        rows = export_rows(path)
        table = table_of(rows)
        self.load_rows(table, rows, workspace=workspace)
        return table

    # --- scripted answers ---------------------------------------------------------------------

    def fail_next(
        self, status: int, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> None:
        """Answer the next request with ``status`` (a default error body when ``body`` is None)."""
        if body is None:
            body = {
                "error": {"code": _ERROR_CODES.get(status, "Error"), "message": f"fake {status}"}
            }
        self._script.append(_Scripted(status, body, dict(headers or {})))

    def partial_next(
        self, message: str = "Query exceeded a limit", severity: str = "Error"
    ) -> None:
        """Answer the next request with its data plus a ``PartialError``."""
        self._script.append(_Scripted(200, partial=_partial_error([(message, severity)])))

    def empty_next(self) -> None:
        self._script.append(_Scripted(200, empty=True))

    def fail_workspace(self, workspace: str, status: int, times: int = 1) -> None:
        """Answer the next ``times`` requests for ``workspace`` with ``status`` (e.g. 403: the
        identity lost its role there), whatever the other workspaces answer."""
        body = {"error": {"code": _ERROR_CODES.get(status, "Error"), "message": f"fake {status}"}}
        self._by_workspace.setdefault(workspace, []).extend(
            _Scripted(status, body) for _ in range(times)
        )

    # --- clients ------------------------------------------------------------------------------

    def client(self, **overrides: Any) -> LogsQueryClient:
        """The real ``LogsQueryClient`` for this endpoint, retrying without sleeping."""
        overrides.setdefault("retry_backoff_factor", 0)
        overrides.setdefault("retry_backoff_max", 0)
        return make_logs_client(self.endpoint, self.credential, **overrides)

    def source(
        self,
        table: TableMode = TableMode.AUTO,
        *,
        lookback: timedelta = timedelta(minutes=60),
        workspace_ids: Sequence[str] | None = None,
        activity_log: ActivityMode = ActivityMode.OFF,
        **client_overrides: Any,
    ) -> LogAnalyticsSource:
        """The real source against this endpoint; the Activity Log part only when asked
        (``activity_log=ActivityMode.AUTO``), so tests of the system logs count one request
        per workspace."""
        return LogAnalyticsSource(
            self.client(**client_overrides),
            workspace_ids=workspace_ids or (self.workspace_id,),
            table=table,
            lookback=lookback,
            query_options={"enforce_https": False},
            activity_log=activity_log,
        )

    # --- the endpoint -------------------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        match = _WORKSPACE_PATH.match(request.path)
        workspace = match.group(1) if match else ""
        body = request.get_json(silent=True) or {}
        authorization = request.headers.get("Authorization", "")
        self.requests.append(Received(workspace, body, authorization))
        if authorization != f"Bearer {FAKE_TOKEN}":
            return _json(401, {"error": {"code": "AuthorizationRequiredError", "message": "no"}})
        if self.delay:
            time.sleep(self.delay)
        own = self._by_workspace.get(workspace)
        if own:
            failure = own.pop(0)
            return _json(failure.status, failure.body, failure.headers)
        scripted = self._script.pop(0) if self._script else None
        if scripted and scripted.partial is None and not scripted.empty:
            return _json(scripted.status, scripted.body, scripted.headers)
        query = str(body.get("query", ""))
        try:
            table = self._execute(workspace, query, empty=bool(scripted and scripted.empty))
        except _Refused as refused:
            return _json(400, refused.body)
        answer: dict[str, Any] = {"tables": [table]}
        warnings = self._missing_warnings(workspace, query)
        errors = [
            *warnings,
            *(scripted.partial["details"] if scripted and scripted.partial else []),
        ]
        if errors:
            answer["error"] = {
                "code": "PartialError",
                "message": "There were some errors when processing your query.",
                "details": errors,
            }
        return _json(200, answer)

    def _referenced(self, query: str) -> list[str]:
        return [t for t in self.schemas if re.search(rf"\b{re.escape(t)}\b(?!_)", query)]

    def _missing(self, workspace: str, query: str) -> list[str]:
        self._connection(workspace)
        return [t for t in self._referenced(query) if t not in self._present[workspace]]

    def _missing_warnings(self, workspace: str, query: str) -> list[dict[str, Any]]:
        if "isfuzzy=true" not in query:
            return []
        return _partial_error(
            [
                (f"'union' operator: Failed to resolve table expression named '{t}'", "Warning")
                for t in self._missing(workspace, query)
            ]
        )["details"]

    def _execute(self, workspace: str, query: str, *, empty: bool) -> dict[str, Any]:
        con = self._connection(workspace)
        missing = self._missing(workspace, query)
        referenced = self._referenced(query)
        if missing and "isfuzzy=true" in query and len(missing) == len(referenced):
            raise _Refused(
                "BadArgumentError",
                "union: must have at least one operand that can be evaluated successfully "
                "when running with 'Fuzzy' mode.",
            )
        if missing and "isfuzzy=true" not in query:
            raise _Refused(
                "BadArgumentError",
                f"'table' operator: Failed to resolve table expression named '{missing[0]}'",
            )
        try:
            text = self._resolve_optional_columns(
                query.replace("ingestion_time()", INGESTION_COLUMN)
            )
            relation = duckdb_kql.kql(con, text)
        except duckdb_kql.KqlError as error:
            raise _Refused("SemanticError", str(error)) from None
        columns = [
            {"name": name, "type": _kusto_type(str(sql_type))}
            for name, sql_type in zip(relation.columns, relation.types, strict=True)
        ]
        rows = [] if empty else [[_wire(v) for v in row] for row in relation.fetchall()]
        return {"name": "PrimaryResult", "columns": columns, "rows": rows}

    def _resolve_optional_columns(self, query: str) -> str:
        """duckdb-kql has no ``column_ifexists``: resolve it here as Kusto does, against the
        declared schemas (the column if a table has it, else the default)."""
        known = {column for columns in self.schemas.values() for column in columns}

        def resolve(match: re.Match[str]) -> str:
            column, default = match.group(1), match.group(2)
            return column if column in known else default

        return _COLUMN_IFEXISTS.sub(resolve, query)


_COLUMN_IFEXISTS = re.compile(r'column_ifexists\("(\w+)",\s*([^()]*?)\)')


class _Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.body = {
            "error": {
                "code": code,
                "message": "The request had some invalid properties",
                "innererror": {"code": code, "message": message},
            }
        }


_ERROR_CODES = {
    400: "BadArgumentError",
    401: "AuthorizationRequiredError",
    403: "InsufficientAccessError",
    404: "WorkspaceNotFoundError",
    429: "ThrottledError",
    503: "ServiceUnavailableError",
}


def _partial_error(items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    details = [
        {
            "code": "EngineError",
            "message": "Something went wrong processing your query on the server.",
            "innererror": {
                "code": "-2133196790",
                "message": message,
                "severity": 2 if severity == "Warning" else 3,
                "severityName": severity,
            },
        }
        for message, severity in items
    ]
    return {"code": "PartialError", "message": "There were some errors.", "details": details}


def _kusto_type(sql_type: str) -> str:
    upper = sql_type.upper()
    if upper.startswith("TIMESTAMP"):
        return "datetime"
    if upper in ("BIGINT", "HUGEINT", "UBIGINT"):
        return "long"
    if upper in ("INTEGER", "SMALLINT", "TINYINT"):
        return "int"
    if upper in ("DOUBLE", "FLOAT", "DECIMAL") or upper.startswith("DECIMAL"):
        return "real"
    if upper == "BOOLEAN":
        return "bool"
    if upper == "JSON" or upper.endswith("[]"):
        return "dynamic"
    return "string"


def _wire(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
    if isinstance(value, list | dict):
        return json.dumps(value)  # Log Analytics sends dynamic values as JSON text
    return value


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    text = body if isinstance(body, str) else json.dumps(body)
    return Response(
        text, status=status, headers=dict(headers or {}), content_type="application/json"
    )


def export_rows(path: str | Path) -> list[dict[str, Any]]:
    """The raw rows of a ``samples/`` export (az CLI list or REST tables shape) as dicts."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(document, list):
        return [dict(row) for row in document]
    rows: list[dict[str, Any]] = []
    for table in document["tables"]:
        names = [c["name"] for c in table["columns"]]
        rows.extend(dict(zip(names, row, strict=True)) for row in table["rows"])
    return rows


def table_of(rows: Sequence[Mapping[str, Any]]) -> str:
    """Which table raw rows come from: ``AzureActivity`` (its ``OperationNameValue`` column), else
    a system-log table (suffixed columns: the legacy ``_CL`` table)."""
    if any("OperationNameValue" in row for row in rows):
        return ACTIVITY_TABLE
    legacy = any("Log_s" in row for row in rows)
    return TableMode.LEGACY.value if legacy else TableMode.RESOURCE.value


@pytest.fixture
def log_analytics(httpserver: HTTPServer) -> Iterator[FakeLogAnalytics]:
    """A fresh fake Log Analytics endpoint (empty workspace ``DEFAULT_WORKSPACE``)."""
    fake = FakeLogAnalytics(httpserver)
    yield fake
    for con in fake._workspaces.values():
        con.close()
