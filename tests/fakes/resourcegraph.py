"""A fake Azure Resource Graph endpoint that really executes the posted KQL (a pytest plugin).

Ask for the ``resource_graph`` fixture (``tests/verify/conftest.py`` registers the plugin)::

    def test_reads_the_config(resource_graph: FakeResourceGraph) -> None:
        resource_graph.load(SAMPLE)                 # ARM objects: resources and role assignments
        client = resource_graph.client()            # the real client, plain http on loopback
        rows = client.query(build_query(...), deadline=time.monotonic() + 15)

It speaks the REST shape of platform-facts §9: ``POST /providers/Microsoft.ResourceGraph/
resources?api-version=...`` with ``{"query", "options": {"$top", "$skipToken", "resultFormat"}}``
and a bearer token; the answer is ``{"totalRecords", "count", "resultTruncated", "data",
"$skipToken"?}``. The query runs with duckdb-kql over two DuckDB tables, ``resources`` and
``authorizationresources``, declared by ``tools/kusto/resourcegraph.json`` (the same schemas the
Kusto language service checks the query against); role assignment objects go to the second,
everything else to the first, with ``type`` in lower case as Resource Graph returns it. Dynamic
columns come back as JSON values, not text.

Scripted answers (each used once, in order): ``fail_next(status, body=None, headers=None)``,
``delay_next(seconds)`` (answer late, for time budgets), ``garbage_next(body)`` (a 200 with this
body). ``page_size`` makes answers page with ``$skipToken``. ``requests`` records what came in.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb_kql
import pytest
from azure.core.credentials import AccessToken
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pullwatch.verify.graph import ResourceGraphClient
from pullwatch.verify.snapshot import ROLE_ASSIGNMENT_TYPE, rows_of_document

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tools" / "kusto" / "resourcegraph.json"
PATH = "/providers/Microsoft.ResourceGraph/resources"
FAKE_TOKEN = "fake-arm-token"
_SQL = {"string": "VARCHAR", "dynamic": "JSON"}


class FakeArmCredential:
    """A TokenCredential handing out a fixed token; records the scopes asked for."""

    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.extend(scopes)
        return AccessToken(FAKE_TOKEN, int(time.time()) + 3600)


@dataclass(frozen=True)
class _Scripted:
    status: int = 200
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    raw: str | None = None


@dataclass(frozen=True)
class Received:
    body: Mapping[str, Any]
    authorization: str
    api_version: str

    @property
    def query(self) -> str:
        return str(self.body.get("query", ""))


def schemas() -> dict[str, dict[str, str]]:
    tables: dict[str, dict[str, str]] = json.loads(SCHEMAS.read_text(encoding="utf-8"))["tables"]
    return tables


class FakeResourceGraph:
    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.endpoint = server.url_for("").rstrip("/")
        self.credential = FakeArmCredential()
        self.requests: list[Received] = []
        self.page_size: int | None = None
        self.schemas = schemas()
        self._script: list[_Scripted] = []
        self._con = duckdb_kql.connect()
        for table, columns in self.schemas.items():
            defs = ", ".join(f'"{c}" {_SQL[t]}' for c, t in columns.items())
            self._con.execute(f'CREATE TABLE "{table}" ({defs})')
        server.expect_request(PATH, method="POST").respond_with_handler(self._handle)

    # --- data ---------------------------------------------------------------------------------

    def load(self, source: str | Path | Iterable[Mapping[str, Any]]) -> int:
        """Add ARM objects (a file in any ``--resources`` shape, or objects) to the tables."""
        if isinstance(source, str | Path):
            objects: Iterable[Any] = rows_of_document(
                json.loads(Path(source).read_text(encoding="utf-8"))
            )
        else:
            objects = source
        count = 0
        for item in objects:
            kind = str(item.get("type", "")).lower()
            table = "authorizationresources" if kind == ROLE_ASSIGNMENT_TYPE else "resources"
            columns = self.schemas[table]
            values = []
            for column, kusto_type in columns.items():
                value = item.get(column)
                if column == "type":
                    value = kind
                if kusto_type == "dynamic":
                    value = None if value is None else json.dumps(value)
                values.append(value)
            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" for _ in columns)
            # Identifiers come from resourcegraph.json; values are bound parameters.
            self._con.execute(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', values)  # noqa: S608
            count += 1
        return count

    def clear(self) -> None:
        for table in self.schemas:
            self._con.execute(f'DELETE FROM "{table}"')  # noqa: S608

    # --- scripted answers ---------------------------------------------------------------------

    def fail_next(
        self, status: int, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> None:
        if body is None:
            body = {"error": {"code": _CODES.get(status, "Error"), "message": f"fake {status}"}}
        self._script.append(_Scripted(status, body, dict(headers or {})))

    def delay_next(self, seconds: float) -> None:
        self._script.append(_Scripted(delay=seconds))

    def garbage_next(self, raw: str) -> None:
        self._script.append(_Scripted(raw=raw))

    # --- clients ------------------------------------------------------------------------------

    def client(self, **kwargs: Any) -> ResourceGraphClient:
        return ResourceGraphClient(self.endpoint, self.credential, **kwargs)

    def run(self, query: str) -> list[dict[str, Any]]:
        """Execute ``query`` over the tables directly (no HTTP)."""
        relation = duckdb_kql.kql(self._con, query)
        kinds = [str(t).upper() for t in relation.types]
        return [
            {
                name: (json.loads(value) if kind == "JSON" and isinstance(value, str) else value)
                for name, kind, value in zip(relation.columns, kinds, row, strict=True)
            }
            for row in relation.fetchall()
        ]

    def close(self) -> None:
        self._con.close()

    # --- the endpoint -------------------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        authorization = request.headers.get("Authorization", "")
        self.requests.append(Received(body, authorization, request.args.get("api-version", "")))
        if authorization != f"Bearer {FAKE_TOKEN}":
            return _json(401, {"error": {"code": "AuthenticationFailed", "message": "no token"}})
        if not request.args.get("api-version"):
            return _json(400, {"error": {"code": "MissingApiVersionParameter", "message": "no"}})
        scripted = self._script.pop(0) if self._script else None
        if scripted and scripted.delay:
            time.sleep(scripted.delay)
        if scripted and scripted.raw is not None:
            return Response(scripted.raw, status=200, content_type="application/json")
        if scripted and scripted.status != 200:
            return _json(scripted.status, scripted.body, scripted.headers)
        try:
            rows = self.run(str(body.get("query", "")))
        except duckdb_kql.KqlError as error:
            return _json(400, {"error": {"code": "InvalidQuery", "message": str(error)[:500]}})
        options = body.get("options") or {}
        start = int(options.get("$skipToken") or 0)
        size = min(int(options.get("$top") or 1000), self.page_size or 1000)
        page = rows[start : start + size]
        answer: dict[str, Any] = {
            "totalRecords": len(rows),
            "count": len(page),
            "resultTruncated": "false",
            "data": page,
            "facets": [],
        }
        if start + size < len(rows):
            answer["$skipToken"] = str(start + size)
        return _json(200, answer)


_CODES = {400: "BadRequest", 401: "AuthenticationFailed", 403: "AuthorizationFailed"}
_CODES |= {429: "RateLimiting", 500: "InternalServerError", 503: "ServiceUnavailable"}


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, default=str),
        status=status,
        headers=dict(headers or {}),
        content_type="application/json",
    )


@pytest.fixture
def resource_graph(httpserver: HTTPServer) -> Iterator[FakeResourceGraph]:
    """A fresh fake Resource Graph endpoint with empty tables."""
    fake = FakeResourceGraph(httpserver)
    yield fake
    fake.close()
