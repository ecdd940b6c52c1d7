"""Read image-pull failures from Log Analytics: build the KQL and run it. Talks to the network.

The query (``build_query``) reads one or both system-log tables, gives each row its kind
(``classifiers.signals.row_kind``: failure, back-off, success, pulling; the rest is dropped) and
reduces them server side to one row per (environment, app, revision, job, container, kind,
reason, message), so the answer has O(distinct messages of failing revisions) rows however many
lines an outage writes. A failure row also carries its distinct pull-attempt rows
(``Refs``: TimeGenerated, replica and the platform's Count, at most ``MAX_ROW_REFS``), which the
ledger uses to count each row once. The same request returns, per environment and table, how
many rows of any kind it wrote in the window and the newest one (``Signal == "activity"``): the
evidence that its logs flow, without which nothing resolves as quiet.

Table modes (``PULLWATCH_TABLE``): ``ContainerAppSystemLogs_CL`` (legacy ``log-analytics``
destination, suffixed columns), ``ContainerAppSystemLogs`` (``azure-monitor`` destination, plain
columns) or ``auto``: ``union isfuzzy=true`` of both, each leg filtered and projected to the same
common names (``TABLE_COLUMNS``) first, so either table, or both, can be present.

Incremental reading (platform-facts §2, §9): with a watermark ``W`` (the largest ingestion time
seen so far in that workspace) each leg keeps ``TimeGenerated > W - lookback`` and
``ingestion_time() > W - lookback``: the lookback (``PULLWATCH_LOOKBACK``) is an overlap re-read
every tick, because records become queryable out of order and one that shows up late may carry
an ingestion time at or before ``W``; the ledger drops what it already counted (row ids). With no
watermark it reads ``TimeGenerated > now - lookback``. Datetimes are literals, not ``ago()``, so
a query is reproducible and the file source can apply the same window. ``max_ingested`` comes back
truncated to microseconds (Log Analytics has 100 ns ticks), which can only re-read a record, never
skip one. The query API's ``timespan`` is not used (it would be ANDed with these filters and
could only hide late records). ``FetchResult.horizon`` is the oldest window start: rows older
than it are never read again, so their ids may be forgotten.

Filter terms come from ``classifiers.signals`` (never copied here). Python's ``is_failure_row`` is
case-insensitive substring matching, so the KQL uses ``contains`` (case-insensitive) and ``in~``.

Missing tables (what we found, and what we do):

* Kusto's ``union`` reference: with ``isfuzzy=true`` a leg that cannot be resolved is dropped and
  "any resolution failure yields a warning in the query status results"; if *no* leg resolves the
  query fails ("union: must have at least one operand that can be evaluated successfully when
  running with 'Fuzzy' mode", reported e.g. in Azure/Azure-Sentinel#6772).
* The Log Analytics query API reports engine warnings as an ``"error"`` object next to
  ``"tables"`` (code ``PartialError``, ``details[].innererror.severityName == "Warning"``, e.g.
  Azure/azure-sdk-for-python#25137), which azure-monitor-query turns into
  ``LogsQueryPartialResult``. Workbook authors saw exactly this for missing tables under
  ``isFuzzy`` (microsoft/Application-Insights-Workbooks#810). The exact warning text could not
  be checked offline; the resolution failure message Log Analytics uses elsewhere is
  "Failed to resolve table expression named '<table>'".
* So in ``auto`` mode a partial error whose every detail only says one of *our* tables could not
  be resolved (``_is_missing_table_warning``) is treated as a full result, logged at INFO: a
  workspace with one table never looks permanently partial (which would freeze the watermark).
  Any other partial error keeps ``partial=True``. The "no operand" failure (neither table exists
  yet, e.g. no environment has sent logs) is an empty result with a warning, not an error. If a
  future wording slipped past the check, the symptom is a partial warning every tick whose text
  suggests setting ``PULLWATCH_TABLE`` to the table that exists.

Several workspaces: one query per workspace (not ``additional_workspaces``), so an HTTP error
names the workspace it came from, the fuzzy union resolves per workspace (a cross-workspace
query would mix one workspace's missing table into everyone's status), and each request stays
within the per-query limits. They run concurrently, at most ``MAX_PARALLEL_QUERIES`` (5, Log
Analytics' concurrency per user) at once, each with its own watermark. A workspace that fails is
reported in ``FetchResult.workspaces`` (logged at ERROR) and the others are used; only when every
workspace fails does ``fetch`` raise. Errors: ``HttpResponseError`` and other azure-core errors become
``QueryError`` naming the workspace and status (never a token). 408/429/5xx are retried by
azure-core's ``RetryPolicy`` with bounded settings (``make_logs_client``): at most
``RETRY_TOTAL`` retries, back-off and ``Retry-After`` capped at ``RETRY_BACKOFF_MAX`` seconds,
no new attempt after ``RETRY_TIMEOUT`` seconds, a read timeout above the server timeout, about
four minutes per workspace in the worst case, well under the Function timeout.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, ClientAuthenticationError, HttpResponseError
from azure.core.pipeline import PipelineResponse
from azure.core.pipeline.policies import RetryPolicy
from azure.monitor.query import LogsQueryClient, LogsQueryPartialResult, LogsTable

from classifiers.signals import (
    BACKOFF_LOG_TERMS,
    FAILURE_LOG_TERMS,
    FAILURE_REASONS,
    FAILURE_REASONS_IF_IMAGE,
    IMAGE_WORD,
    PULLING_LOG_TERMS,
    PULLING_REASONS,
    SUCCESS_LOG_TERMS,
    SUCCESS_REASONS,
)
from pullwatch.errors import QueryError, SettingsError
from pullwatch.fetch.activity import ActivityReading, build_activity_query
from pullwatch.fetch.activity import read_rows as read_activity_rows
from pullwatch.fetch.kql import kql_datetime, kql_string, query_start, read_datetime
from pullwatch.fetch.records import (
    ANY_WORKSPACE,
    MAX_ROW_REFS,
    SAMPLE_CHARS,
    DeploymentFailure,
    EnvironmentActivity,
    FetchResult,
    RevisionGroup,
    RowRef,
    Signal,
    WorkspaceOutcome,
    newest_writes,
)
from pullwatch.settings import ActivityMode, Settings, TableMode

log = logging.getLogger(__name__)

# Common name -> column expression, per table. Every leg of the union is projected to the common
# names. A column a table may lack (the legacy table only has the columns its rows brought:
# JobName_s arrives with the first job) is read with column_ifexists and a default.
TABLE_COLUMNS: Mapping[TableMode, Mapping[str, str]] = {
    TableMode.LEGACY: {
        "Environment": "EnvironmentName_s",
        "App": "ContainerAppName_s",
        "Revision": "RevisionName_s",
        "Replica": "ReplicaName_s",
        "Container": "ContainerName_s",
        "Job": "JobName_s",
        "Reason": "Reason_s",
        "Log": "Log_s",
        "Pulls": "Count_d",
        "ResourceId": "_ResourceId",
    },
    TableMode.RESOURCE: {
        "Environment": "EnvironmentName",
        "App": "ContainerAppName",
        "Revision": "RevisionName",
        "Replica": "ReplicaName",
        "Container": "ContainerName",
        "Job": "JobName",
        "Reason": "Reason",
        "Log": "Log",
        "Pulls": "Count",
        "ResourceId": "_ResourceId",
    },
}
# Columns read through column_ifexists(name, default): absent in some workspaces' tables.
OPTIONAL_COLUMNS: Mapping[str, str] = {
    "ContainerName_s": '""',
    "JobName_s": '""',
    "Count_d": "1.0",
}
TABLES: Mapping[TableMode, tuple[TableMode, ...]] = {
    TableMode.AUTO: (TableMode.LEGACY, TableMode.RESOURCE),
    TableMode.LEGACY: (TableMode.LEGACY,),
    TableMode.RESOURCE: (TableMode.RESOURCE,),
}
# The columns of the query's answer, in order: one row per RevisionGroup, and one row per
# (environment, table) with Signal "activity" (Count, FirstSeen, LastSeen: all its rows).
RESULT_COLUMNS: tuple[str, ...] = (
    "Environment",
    "App",
    "Revision",
    "Job",
    "Container",
    "Signal",
    "Reason",
    "Text",
    "Count",
    "FirstSeen",
    "LastSeen",
    "LastIngested",
    "Refs",
    "ResourceId",
    "Table",
)
ACTIVITY = "activity"  # the Signal of the environments' activity rows

# Bounded retries (azure-core does them); see the module docstring.
RETRY_TOTAL = 3
RETRY_BACKOFF_FACTOR = 1.0
RETRY_BACKOFF_MAX = 20  # seconds, also caps Retry-After
RETRY_TIMEOUT = 150  # seconds: no new attempt after this
CONNECTION_TIMEOUT = 10
READ_TIMEOUT = 75  # above SERVER_TIMEOUT
SERVER_TIMEOUT = 60
# Workspaces queried at once: Log Analytics runs at most 5 queries of one user concurrently
# (more are queued), so more threads would only wait there.
MAX_PARALLEL_QUERIES = 5


# --- the query --------------------------------------------------------------------------------


def _in_list(column: str, values: Iterable[str]) -> str:
    return f"{column} in~ ({', '.join(kql_string(v) for v in values)})"


def _contains_any(column: str, terms: Iterable[str]) -> str:
    return " or ".join(f"{column} contains {kql_string(t)}" for t in terms)


def failure_predicate() -> str:
    """KQL over the common names that equals ``classifiers.signals.is_failure_row``."""
    parts = [
        _in_list("Reason", FAILURE_REASONS),
        f"({_in_list('Reason', FAILURE_REASONS_IF_IMAGE)} and Log contains {kql_string(IMAGE_WORD)})",
        _contains_any("Log", FAILURE_LOG_TERMS),
    ]
    return " or ".join(parts)


def backoff_predicate() -> str:
    """KQL for ``row_kind``'s back-off test minus its "is a failure" part (``case`` checks
    that too)."""
    return _contains_any("Log", BACKOFF_LOG_TERMS)


def success_predicate() -> str:
    """KQL for ``row_kind``'s success test minus its "not a failure" part (``case`` checks that
    first)."""
    return f"{_in_list('Reason', SUCCESS_REASONS)} or {_contains_any('Log', SUCCESS_LOG_TERMS)}"


def pulling_predicate() -> str:
    """KQL for ``row_kind``'s pulling test minus its "neither failure nor success" part."""
    return f"{_in_list('Reason', PULLING_REASONS)} or {_contains_any('Log', PULLING_LOG_TERMS)}"


def signal_expression() -> str:
    """The ``case()`` that gives each row its kind, in ``classifiers.signals.row_kind``'s order."""
    failure = failure_predicate()
    return (
        f"case(({failure}) and ({backoff_predicate()}), {kql_string(Signal.BACKOFF.value)},\n"
        f"    {failure}, {kql_string(Signal.FAILURE.value)},\n"
        f"    {success_predicate()}, {kql_string(Signal.SUCCESS.value)},\n"
        f'    {pulling_predicate()}, {kql_string(Signal.PULLING.value)}, "")'
    )


def _column(name: str, column: str) -> str:
    default = OPTIONAL_COLUMNS.get(column)
    expression = column if default is None else f'column_ifexists("{column}", {default})'
    # the platform's count is int in one table and real in the other: one type for the union
    return f"toint({expression})" if name == "Pulls" else expression


def column_projection(table: TableMode) -> str:
    """The ``project`` list that gives ``table``'s columns their common names."""
    return ", ".join(
        name if name == column else f"{name} = {_column(name, column)}"
        for name, column in TABLE_COLUMNS[table].items()
    )


def _leg(table: TableMode, *, incremental: bool, ingestion: str) -> str:
    projection = column_projection(table)
    lines = [f"{table.value}", "    | where TimeGenerated > since"]
    if incremental:
        lines.append(f"    | where {ingestion} > since")
    lines.append(
        f"    | project TimeGenerated, Ingested = {ingestion}, Table = {kql_string(table.value)}, "
        f"{projection}"
    )
    return "\n".join(lines)


def build_query(
    table: TableMode,
    *,
    watermark: datetime | None = None,
    now: datetime,
    lookback: timedelta,
    ingestion: str = "ingestion_time()",
) -> str:
    """The KQL for one tick and workspace. ``ingestion`` replaces ``ingestion_time()`` (tests)."""
    since = query_start(watermark=watermark, now=now, lookback=lookback)
    header = [
        f"// pullwatch: image-pull failures, back-offs, successes and pulls per revision and "
        f"message, and each environment's log activity (table: {table.value})",
        f"let since = {kql_datetime(since)};",
    ]
    legs = [_leg(t, incremental=watermark is not None, ingestion=ingestion) for t in TABLES[table]]
    if len(legs) == 1:
        source = "let rows = " + legs[0] + ";"
    else:
        source = (
            "let rows = union isfuzzy=true\n"
            + ",\n".join("    (" + leg.replace("\n", "\n    ") + ")" for leg in legs)
            + ";"
        )
    ref = 'strcat(tostring(TimeGenerated), "|", Replica, "|", tostring(coalesce(Pulls, 1)))'
    reduce = (
        "rows\n"
        f"| extend Signal = {signal_expression()}\n"
        '| where Signal != ""\n'
        f"| extend Text = substring(Log, 0, {SAMPLE_CHARS}),\n"
        f'    Ref = iff(Signal == "{Signal.FAILURE.value}", {ref}, "")\n'
        "| summarize Count = count(), FirstSeen = min(TimeGenerated), "
        "LastSeen = max(TimeGenerated),\n"
        f"    LastIngested = max(Ingested), Refs = make_set(Ref, {MAX_ROW_REFS}), "
        "ResourceId = max(ResourceId)\n"
        "    by Environment, App, Revision, Job, Container, Signal, Reason, Text\n"
        "| union (rows\n"
        "    | summarize Count = count(), FirstSeen = min(TimeGenerated), "
        "LastSeen = max(TimeGenerated),\n"
        "        LastIngested = max(Ingested) by Environment, Table\n"
        f'    | extend Signal = "{ACTIVITY}")'
    )
    return "\n".join([*header, source, reduce]) + "\n"


# --- the answer -------------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str):  # Log Analytics sends dynamic values as JSON text
        value = json.loads(value) if value else []
    return list(value or [])


def _as_count(value: Any) -> int:
    try:
        count = int(float(value))
    except (TypeError, ValueError):
        return 1
    return count if count >= 1 else 1


def row_ref(text: str) -> RowRef | None:
    """A ``Refs`` element (``<TimeGenerated>|<replica>|<Count>``) as a ``RowRef``."""
    if not text:
        return None
    moment, _, rest = str(text).partition("|")
    replica, _, count = rest.rpartition("|")
    when = read_datetime(moment)
    if when is None:
        return None
    return RowRef(when, replica, _as_count(count))


def row_refs(value: Any) -> tuple[RowRef, ...]:
    refs = (row_ref(str(item)) for item in _as_list(value) if item)
    return tuple(sorted({r for r in refs if r is not None}, key=lambda r: (r.time, r.replica)))


def group_from_row(row: Mapping[str, Any], workspace: str = "") -> RevisionGroup:
    """One answer row (by ``RESULT_COLUMNS`` name) as a ``RevisionGroup``."""
    first = read_datetime(row["FirstSeen"])
    last = read_datetime(row["LastSeen"])
    if first is None or last is None:
        raise ValueError("a result row without FirstSeen/LastSeen")
    signal = Signal(row["Signal"])
    return RevisionGroup(
        environment=str(row.get("Environment") or ""),
        app=str(row.get("App") or ""),
        revision=str(row.get("Revision") or ""),
        signal=signal,
        reason=str(row.get("Reason") or ""),
        count=int(row["Count"]),
        first_seen=first,
        last_seen=last,
        last_ingested=read_datetime(row.get("LastIngested")),
        text=str(row.get("Text") or "")[:SAMPLE_CHARS],
        container=str(row.get("Container") or ""),
        job=str(row.get("Job") or ""),
        rows=row_refs(row.get("Refs")) if signal is Signal.FAILURE else (),
        resource_id=str(row.get("ResourceId") or ""),
        workspace=workspace,
    )


def activity_from_row(row: Mapping[str, Any], workspace: str = "") -> EnvironmentActivity:
    first = read_datetime(row["FirstSeen"])
    last = read_datetime(row["LastSeen"])
    if first is None or last is None:
        raise ValueError("an activity row without FirstSeen/LastSeen")
    return EnvironmentActivity(
        environment=str(row.get("Environment") or ""),
        table=str(row.get("Table") or ""),
        rows=int(row["Count"]),
        first_seen=first,
        last_seen=last,
        workspace=workspace,
    )


@dataclass(frozen=True)
class Answer:
    """One workspace's answer: its groups, its environments' activity, its latest ingestion,
    and the Activity Log part (refused deployments, successful writes, rows skipped)."""

    groups: tuple[RevisionGroup, ...] = ()
    activity: tuple[EnvironmentActivity, ...] = ()
    max_ingested: datetime | None = None
    deployments: tuple[DeploymentFailure, ...] = ()
    deployed: Mapping[str, datetime] = field(default_factory=dict)
    activity_skipped: int = 0

    def with_activity_log(self, reading: ActivityReading) -> Answer:
        ingested = [t for t in (self.max_ingested, reading.max_ingested) if t is not None]
        return replace(
            self,
            max_ingested=max(ingested, default=None),
            deployments=reading.failures,
            deployed=dict(reading.deployed),
            activity_skipped=reading.skipped,
        )


def answer_from_rows(rows: Iterable[Mapping[str, Any]], workspace: str = "") -> Answer:
    groups: list[RevisionGroup] = []
    activity: list[EnvironmentActivity] = []
    ingested: list[datetime] = []
    for row in rows:
        moment = read_datetime(row.get("LastIngested"))
        if row.get("Signal") == ACTIVITY:
            activity.append(activity_from_row(row, workspace))
        else:
            groups.append(group_from_row(row, workspace))
        if moment is not None:
            ingested.append(moment)
    return Answer(sort_groups(groups), tuple(activity), max(ingested, default=None))


def answer_from_table(table: LogsTable, workspace: str = "") -> Answer:
    return answer_from_rows(
        (dict(zip(table.columns, row, strict=True)) for row in table.rows), workspace
    )


def sort_groups(groups: Iterable[RevisionGroup]) -> tuple[RevisionGroup, ...]:
    return tuple(
        sorted(
            groups,
            key=lambda g: (g.key, g.job, g.container, g.signal.value, g.reason, g.text),
        )
    )


def fetch_result(
    outcomes: Sequence[tuple[WorkspaceOutcome, Answer]],
    *,
    warnings: Sequence[str] = (),
    horizon: datetime | None = None,
) -> FetchResult:
    """A ``FetchResult`` from each workspace's outcome and answer."""
    groups = sort_groups(g for _, answer in outcomes for g in answer.groups)
    activity = tuple(a for _, answer in outcomes for a in answer.activity)
    every_warning = [*warnings]
    for outcome, _ in outcomes:
        every_warning.extend(w for w in outcome.warnings if w not in every_warning)
    return FetchResult(
        groups=groups,
        workspaces=tuple(outcome for outcome, _ in outcomes),
        activity=activity,
        rows_matched=sum(g.count for g in groups),
        warnings=tuple(every_warning),
        horizon=horizon,
        deployments=tuple(d for _, answer in outcomes for d in answer.deployments),
        deployed=newest_writes(answer.deployed for _, answer in outcomes),
        activity_skipped=sum(answer.activity_skipped for _, answer in outcomes),
    )


# --- the client -------------------------------------------------------------------------------


class _BoundedRetryPolicy(RetryPolicy[Any, Any]):
    """azure-core's retry policy, with ``Retry-After`` capped at the back-off maximum."""

    def get_retry_after(self, response: PipelineResponse[Any, Any]) -> float | None:
        after = super().get_retry_after(response)
        return None if after is None else min(after, float(self.backoff_max))


def make_credential(settings: Settings) -> TokenCredential:
    """``DefaultAzureCredential``, using the user-assigned identity ``AZURE_CLIENT_ID`` if set;
    when it cannot get a token, the error is one line saying what to do."""
    from azure.identity import DefaultAzureCredential

    try:
        if settings.azure_client_id:
            return ExplainedCredential(
                DefaultAzureCredential(managed_identity_client_id=settings.azure_client_id)
            )
        return ExplainedCredential(DefaultAzureCredential())
    except ValueError as error:  # e.g. an empty or malformed AZURE_CLIENT_ID in the environment
        raise SettingsError(f"the Azure credential cannot be set up: {error}") from None


NO_CREDENTIAL = (
    "no Azure credential was found: run `az login` (in Azure, give the Function its managed "
    "identity and set AZURE_CLIENT_ID); `pullwatch -v` shows each credential tried"
)


def credential_problem(error: ClientAuthenticationError) -> str:
    """One line for a credential that could not get a token (no secret, no SDK essay)."""
    from azure.identity import CredentialUnavailableError

    text = str(error.message or error)
    if isinstance(error, CredentialUnavailableError) or "from the included credentials" in text:
        return NO_CREDENTIAL
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return f"the Azure credential could not get a token for Log Analytics: {_safe_text(first, 200)}"


class ExplainedCredential:
    """Wraps a ``TokenCredential``: a failure to get a token becomes a one-line ``QueryError``."""

    def __init__(self, inner: TokenCredential) -> None:
        self._inner = inner

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        try:
            return self._inner.get_token(*scopes, **kwargs)
        except ClientAuthenticationError as error:
            raise QueryError(credential_problem(error)) from None

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if callable(close):
            close()


def make_logs_client(
    endpoint: str, credential: TokenCredential, **overrides: Any
) -> LogsQueryClient:
    """A ``LogsQueryClient`` with bounded retries and timeouts (``overrides`` for tests)."""
    retry = {
        "retry_total": RETRY_TOTAL,
        "retry_backoff_factor": RETRY_BACKOFF_FACTOR,
        "retry_backoff_max": RETRY_BACKOFF_MAX,
        "timeout": RETRY_TIMEOUT,
    }
    for name in list(retry):
        if name in overrides:
            retry[name] = overrides.pop(name)
    overrides.setdefault("connection_timeout", CONNECTION_TIMEOUT)
    overrides.setdefault("read_timeout", READ_TIMEOUT)
    return LogsQueryClient(
        credential,
        endpoint=endpoint,
        retry_policy=_BoundedRetryPolicy(**retry),
        **overrides,
    )


_MISSING_ACTIVITY = re.compile(r"AzureActivity", re.I)
_RESOLVE_FAILURE = re.compile(r"resolve|fuzzy|does not refer to|not found|unknown table", re.I)
_NO_OPERAND = re.compile(r"at least one operand", re.I)


def _innermost(detail: Mapping[str, Any]) -> Mapping[str, Any]:
    inner = detail
    while isinstance(inner.get("innererror"), Mapping):
        inner = inner["innererror"]
    return inner


def _is_missing_table_warning(details: Sequence[Any] | None, tables: Sequence[TableMode]) -> bool:
    """True when every detail only says one of ``tables`` could not be resolved (a warning)."""
    if not details:
        return False
    names = [t.value for t in tables]
    for detail in details:
        if not isinstance(detail, Mapping):
            return False
        inner = _innermost(detail)
        message = str(inner.get("message") or detail.get("message") or "")
        severity = str(inner.get("severityName") or "Warning").lower()
        named = any(re.search(rf"\b{re.escape(n)}\b", message) for n in names)
        if severity != "warning" or not named or not _RESOLVE_FAILURE.search(message):
            return False
    return True


def _safe_text(text: str, limit: int = 300) -> str:
    text = re.sub(r"(?i)bearer\s+\S+", "Bearer <redacted>", " ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class LogAnalyticsSource:
    """``FailureSource`` over Log Analytics workspaces: one query per workspace and tick, the
    workspaces queried concurrently (at most ``MAX_PARALLEL_QUERIES`` at once)."""

    def __init__(
        self,
        client: LogsQueryClient,
        *,
        workspace_ids: Sequence[str],
        table: TableMode = TableMode.AUTO,
        lookback: timedelta = timedelta(minutes=60),
        server_timeout: int = SERVER_TIMEOUT,
        query_options: Mapping[str, Any] | None = None,
        activity_log: ActivityMode = ActivityMode.AUTO,
    ) -> None:
        """``query_options`` are passed to every ``query_workspace`` call (tests only:
        ``{"enforce_https": False}`` for a plain-http fake endpoint)."""
        if not workspace_ids:
            raise ValueError("at least one workspace id is needed")
        self.client = client
        self.workspace_ids = tuple(dict.fromkeys(workspace_ids))
        self.table = table
        self.activity_log = activity_log
        self.lookback = lookback
        self.server_timeout = server_timeout
        self.query_options = dict(query_options or {})

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        credential: TokenCredential | None = None,
        client: LogsQueryClient | None = None,
        workspace_ids: Sequence[str] | None = None,
        lookback: timedelta | None = None,
    ) -> LogAnalyticsSource:
        """The source the Function uses: endpoint, table, lookback and identity from settings."""
        if client is None:
            client = make_logs_client(
                settings.logs_endpoint, credential or make_credential(settings)
            )
        return cls(
            client,
            workspace_ids=workspace_ids or settings.workspace_ids,
            table=settings.table,
            lookback=lookback or settings.lookback,
            activity_log=settings.activity_log,
        )

    def query(self, *, watermark: datetime | None = None, now: datetime) -> str:
        return build_query(self.table, watermark=watermark, now=now, lookback=self.lookback)

    def fetch(
        self, *, watermarks: Mapping[str, datetime] | None = None, now: datetime
    ) -> FetchResult:
        """Every workspace's rows from its watermark minus the lookback. A workspace that fails
        is reported in the result (``failed``) and the others are used; ``QueryError`` only when
        every workspace failed."""
        marks = dict(watermarks or {})
        starts = {ws: marks.get(ws, marks.get(ANY_WORKSPACE)) for ws in self.workspace_ids}
        workers = min(MAX_PARALLEL_QUERIES, len(self.workspace_ids))
        if workers == 1:
            outcomes = [self._fetch_workspace(ws, starts[ws], now) for ws in self.workspace_ids]
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="pullwatch-query") as pool:
                outcomes = list(
                    pool.map(lambda ws: self._fetch_workspace(ws, starts[ws], now), starts)
                )
        failed = [outcome for outcome, _ in outcomes if not outcome.answered]
        if len(failed) == len(outcomes):
            raise QueryError("; ".join(str(outcome.error) for outcome in failed))
        for outcome in failed:
            log.error("%s (its revisions wait for the next tick)", outcome.error)
        horizon = min(
            query_start(watermark=mark, now=now, lookback=self.lookback) for mark in starts.values()
        )
        return fetch_result(outcomes, horizon=horizon)

    def _fetch_workspace(
        self, workspace: str, watermark: datetime | None, now: datetime
    ) -> tuple[WorkspaceOutcome, Answer]:
        """One workspace's answer, or its error as one line (never raised)."""
        try:
            outcome, answer = self._query_workspace(
                workspace, self.query(watermark=watermark, now=now)
            )
        except QueryError as error:
            return WorkspaceOutcome(workspace, error=str(error)), Answer()
        if self.activity_log is ActivityMode.OFF:
            return outcome, answer
        text = build_activity_query(watermark=watermark, now=now, lookback=self.lookback)
        try:
            reading, note = self._query_activity_log(workspace, text)
        except QueryError as error:  # the system logs still count: say so, read it next tick
            warning = f"{error} (Activity Log part; the system logs were read)"
            log.warning("%s", warning)
            return replace(outcome, warnings=(*outcome.warnings, warning)), answer
        if note:
            return replace(outcome, partial=True, warnings=(*outcome.warnings, note)), answer
        merged = answer.with_activity_log(reading)
        return replace(outcome, max_ingested=merged.max_ingested), merged

    def _query_activity_log(self, workspace: str, text: str) -> tuple[ActivityReading, str]:
        """The Activity Log part of one workspace (nothing when it has no AzureActivity table),
        and a warning when the answer was partial (then nothing is used)."""
        try:
            response = self.client.query_workspace(
                workspace, text, timespan=None, server_timeout=self.server_timeout,
                **self.query_options,
            )  # fmt: skip
        except HttpResponseError as error:
            message = _safe_text(str(error.message or ""))
            if error.status_code == 400 and _MISSING_ACTIVITY.search(message):
                log.info("workspace %s has no AzureActivity table: no Activity Log part", workspace)
                return read_activity_rows([]), ""
            raise QueryError(_http_error_text(workspace, error.status_code, message)) from None
        except AzureError as error:
            raise QueryError(
                f"workspace {workspace}: no answer from Log Analytics "
                f"({type(error).__name__}): {_safe_text(str(error.message))}"
            ) from None
        if isinstance(response, LogsQueryPartialResult):
            text = _safe_text(_partial_error_text(response.partial_error))
            return read_activity_rows([]), f"workspace {workspace}: partial Activity Log: {text}"
        tables = response.tables or []
        if not tables:
            return read_activity_rows([]), ""
        table = tables[0]
        return read_activity_rows(
            dict(zip(table.columns, row, strict=True)) for row in table.rows
        ), ""

    def _query_workspace(self, workspace: str, text: str) -> tuple[WorkspaceOutcome, Answer]:
        try:
            response = self.client.query_workspace(
                workspace,
                text,
                timespan=None,
                server_timeout=self.server_timeout,
                **self.query_options,
            )
        except HttpResponseError as error:
            message = _safe_text(str(error.message or ""))
            if error.status_code is None:
                # no answer at all; the SDK re-raises a credential's ClientAuthenticationError
                # as a plain HttpResponseError (its original is the context)
                origin = error if error.__context__ is None else error.__context__
                what = (
                    "could not get a token for Log Analytics"
                    if isinstance(origin, ClientAuthenticationError)
                    else "no answer from Log Analytics"
                )
                raise QueryError(
                    f"workspace {workspace}: {what} ({type(origin).__name__}): {message}"
                ) from None
            if self.table is TableMode.AUTO and _NO_OPERAND.search(message):
                warning = (
                    f"workspace {workspace}: neither ContainerAppSystemLogs_CL nor "
                    "ContainerAppSystemLogs exists yet (no Container Apps environment has sent "
                    "system logs there)"
                )
                log.warning("%s", warning)
                return WorkspaceOutcome(workspace, warnings=(warning,)), Answer()
            raise QueryError(_http_error_text(workspace, error.status_code, message)) from None
        except AzureError as error:
            raise QueryError(
                f"workspace {workspace}: no answer from Log Analytics "
                f"({type(error).__name__}): {_safe_text(str(error.message))}"
            ) from None
        except QueryError:
            raise
        except Exception as error:  # a bug or an unexpected answer: this workspace only
            raise QueryError(
                f"workspace {workspace}: the query failed ({type(error).__name__}): "
                f"{_safe_text(str(error), 200)}"
            ) from None
        if isinstance(response, LogsQueryPartialResult):
            tables = response.partial_data or []
            error_info = response.partial_error
            details = getattr(error_info, "details", None)
            answer = self._answer(workspace, tables)
            if self.table is TableMode.AUTO and _is_missing_table_warning(
                details, TABLES[TableMode.AUTO]
            ):
                log.info("workspace %s: one system-log table is absent (fuzzy union)", workspace)
                return WorkspaceOutcome(workspace, max_ingested=answer.max_ingested), answer
            code = getattr(error_info, "code", "") or "PartialError"
            text = _safe_text(_partial_error_text(error_info))
            warning = f"workspace {workspace}: partial result ({code}): {text}"
            if self.table is TableMode.AUTO:
                warning += " (if a table is missing, set PULLWATCH_TABLE to the one that exists)"
            log.warning("%s", warning)
            outcome = WorkspaceOutcome(
                workspace, max_ingested=answer.max_ingested, partial=True, warnings=(warning,)
            )
            return outcome, answer
        answer = self._answer(workspace, response.tables or [])
        return WorkspaceOutcome(workspace, max_ingested=answer.max_ingested), answer

    def _answer(self, workspace: str, tables: Sequence[LogsTable]) -> Answer:
        try:
            return answer_from_table(tables[0], workspace) if tables else Answer()
        except (KeyError, TypeError, ValueError) as error:
            raise QueryError(
                f"workspace {workspace}: the answer has rows pullwatch cannot read "
                f"({type(error).__name__}: {_safe_text(str(error), 160)})"
            ) from None


def _partial_error_text(error: Any) -> str:
    """The partial error's own message and each detail's innermost message."""
    texts = [str(getattr(error, "message", "") or "")]
    for detail in getattr(error, "details", None) or []:
        if isinstance(detail, Mapping):
            inner = str(_innermost(detail).get("message") or "")
            if inner and inner not in texts:
                texts.append(inner)
    return "; ".join(t for t in texts if t)


def _http_error_text(workspace: str, status: int | None, message: str) -> str:
    hint = {
        400: "the query was rejected; check PULLWATCH_TABLE names a table the workspace has",
        401: "the token was refused; check the identity and PULLWATCH_LOGS_ENDPOINT's cloud",
        403: "the identity needs the Log Analytics Reader role on the workspace",
        404: "no such workspace; check PULLWATCH_WORKSPACE_IDS",
        429: "throttled and retries ran out; the next tick retries",
    }.get(status or 0, "the next tick retries")
    return (
        f"Log Analytics query failed for workspace {workspace}: HTTP {status}: {message} ({hint})"
    )
