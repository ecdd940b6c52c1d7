"""Failed Container Apps and job deployments from the Activity Log: the KQL and its reading. Pure.

Azure Resource Manager rejects a deployment whose image cannot be pulled before any revision (or
job execution) exists, so the system logs say nothing or only ``Persistent Image Pull Errors``;
the real error is in the subscription's Activity Log, which a diagnostic setting sends to the
workspace's ``AzureActivity`` table (the README's Activity Log section; samples/README.md has the sources
for every fact below).

The query (``build_activity_query``) keeps failed ``MICROSOFT.APP/CONTAINERAPPS/WRITE`` and
``MICROSOFT.APP/JOBS/WRITE`` operations (``ActivityStatusValue`` ``Failure``; some operations
still write the older ``Failed``, so both, case-insensitively: Microsoft warns the values' case
varies) and reduces them server side to one row per (resource id, correlation id): how many rows
matched, first and last time, the largest ingestion time, and the first failed row's operation,
caller, status, subscription, resource group and ``Properties_d`` (rows without properties are
picked last). It reads the same window as the system-log query (``pullwatch.fetch.logquery``):
``ingestion_time() > watermark`` and ``TimeGenerated > watermark - lookback``, or
``TimeGenerated > now - lookback`` on the first tick, with literal datetimes.

The reading (``read_rows``) takes the error out of ``Properties_d`` (a dict or JSON text whose
``statusMessage`` is JSON text ``{"error": {"code", "message", "details": [...]}}``, sometimes
``{"status": "Failed", "error": ...}``, sometimes plain text), walks the nested ``details`` and
picks the most specific message about the image. A row whose properties are missing, not JSON,
without a ``statusMessage`` or over ``MAX_PROPERTIES_CHARS`` is skipped with a DEBUG log and
counted (``ActivityReading.skipped``); nothing else changes. Only failures about the image become
``DeploymentFailure``s: the message names an image field (``template.containers.<name>.image``,
the word "image"), or ``classifiers.classify`` finds a cause and the message names an image or a
registry. The second condition guards against generic ARM errors that read like registry
statuses (``Internal server error occurred. correlation ID: ...`` is classified
``registry-unavailable``; on a deployment it is ARM's own error, not the registry's).

``summarize_raw_rows`` applies the query's filter and reduction in Python to raw ``AzureActivity``
rows (an export file), so a file and the workspace give the same failures.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from classifiers import Cause, classify
from pullwatch.fetch.kql import kql_datetime, kql_string, query_start, read_datetime
from pullwatch.fetch.records import DeploymentFailure, DeploymentKind

log = logging.getLogger(__name__)

ACTIVITY_TABLE = "AzureActivity"
OPERATIONS: tuple[str, ...] = ("MICROSOFT.APP/CONTAINERAPPS/WRITE", "MICROSOFT.APP/JOBS/WRITE")
FAILED_STATUSES: tuple[str, ...] = ("Failure", "Failed")
SUCCEEDED_STATUSES: tuple[str, ...] = ("Success", "Succeeded")
SUCCESS = "Success"  # the Status of the answer's rows about a resource's successful writes
MAX_PROPERTIES_CHARS = 100_000  # larger properties (or statusMessage) are skipped, not parsed
MESSAGE_CHARS = 2000  # the error message kept, like system-log samples (records.SAMPLE_CHARS)
_MAX_NODES = 64  # error objects visited in one statusMessage (nested details)
# Rows without properties sort after every real time in arg_min (about 100 years later).
_NO_PROPERTIES_PENALTY = "36500d"

# The columns of the query's answer, in order (one row per resource and correlation).
RESULT_COLUMNS: tuple[str, ...] = (
    "ResourceId",
    "CorrelationId",
    "Rows",
    "FirstSeen",
    "LastSeen",
    "LastIngested",
    "Operation",
    "Caller",
    "Status",
    "Substatus",
    "SubscriptionId",
    "ResourceGroup",
    "Properties",
)
# Columns that identify an AzureActivity export (a file source can recognise it by them).
EXPORT_COLUMNS: frozenset[str] = frozenset(
    {"OperationNameValue", "ActivityStatusValue", "CorrelationId", "Caller"}
)


_PROVIDER_KINDS = {"containerapps": DeploymentKind.APP, "jobs": DeploymentKind.JOB}
_RESOURCE_ID = re.compile(
    r"^/subscriptions/(?P<subscription>[^/\s]+)/resourcegroups/(?P<group>[^/\s]+)/providers/"
    r"microsoft\.app/(?P<type>containerapps|jobs)/(?P<name>[^/\s]+)/?$",
    re.IGNORECASE,
)
_IMAGE_FIELD = re.compile(r"\.image\b|\bimage\b", re.IGNORECASE)
# ARM's wording: Invalid value: "<reference>" (quotes escaped once more inside statusMessage)
_INVALID_VALUE = re.compile(r'Invalid value: \\*"([^"\\\s]{1,512})\\*"')


@dataclass(frozen=True)
class ActivityReading:
    """What one reading of the Activity Log part gave, with its counts."""

    failures: tuple[DeploymentFailure, ...]
    rows_returned: int  # result rows (one per resource and correlation, one per resource written)
    rows_matched: int  # failed AzureActivity rows behind them
    skipped: int  # rows whose properties were missing, not JSON, huge or without a message
    not_image: int  # failed writes that are not about the image (kept out)
    max_ingested: datetime | None
    # the newest successful write of each resource id (lower case): a later one resolves
    deployed: Mapping[str, datetime] = field(default_factory=dict)


# --- the query --------------------------------------------------------------------------------


def _in_list(column: str, values: Iterable[str]) -> str:
    return f"{column} in~ ({', '.join(kql_string(v) for v in values)})"


def build_activity_query(
    *,
    watermark: datetime | None,
    now: datetime,
    lookback: timedelta,
    ingestion: str = "ingestion_time()",
) -> str:
    """The KQL for one tick's Activity Log part. ``ingestion`` replaces ``ingestion_time()``
    (tests only). The window is the system-log query's: with a watermark, both the ingestion
    time and ``TimeGenerated`` from ``watermark - lookback`` (the overlap; the ledger drops a
    correlation it already counted)."""
    since = query_start(watermark=watermark, now=now, lookback=lookback)
    lines = [
        "// pullwatch: failed Container Apps and job writes (Activity Log, AzureActivity), and "
        "each resource's newest successful write",
        f"let since = {kql_datetime(since)};",
        f"let writes = {ACTIVITY_TABLE}",
        "    | where TimeGenerated > since",
    ]
    if watermark is not None:
        lines.append(f"    | where {ingestion} > since")
    lines += [
        f"    | where {_in_list('OperationNameValue', OPERATIONS)}",
        f"    | project TimeGenerated, Ingested = {ingestion},",
        "        ResourceId = tolower(coalesce(_ResourceId, ResourceId)), CorrelationId,",
        "        Operation = OperationNameValue, Caller, Status = ActivityStatusValue,",
        "        Substatus = ActivitySubstatusValue, SubscriptionId, ResourceGroup,",
        "        Properties = coalesce(tostring(Properties_d), Properties);",
        "writes",
        f"| where {_in_list('Status', FAILED_STATUSES)}",
        "// the first failed row with properties (rows without any sort last)",
        "| extend Order = iff(isempty(Properties), "
        f"TimeGenerated + {_NO_PROPERTIES_PENALTY}, TimeGenerated)",
        "| summarize Rows = count(), FirstSeen = min(TimeGenerated), LastSeen = max(TimeGenerated),",
        "    LastIngested = max(Ingested),",
        "    arg_min(Order, Operation, Caller, Status, Substatus, SubscriptionId, ResourceGroup,",
        "        Properties)",
        "    by ResourceId, CorrelationId",
        f"| project {', '.join(RESULT_COLUMNS)}",
        "| union (writes",
        f"    | where {_in_list('Status', SUCCEEDED_STATUSES)}",
        "    | summarize Rows = count(), FirstSeen = min(TimeGenerated), "
        "LastSeen = max(TimeGenerated),",
        "        LastIngested = max(Ingested) by ResourceId",
        f"    | extend Status = {kql_string(SUCCESS)})",
    ]
    return "\n".join(lines) + "\n"


def correlation_query(failure: DeploymentFailure, *, before: timedelta = timedelta(hours=1)) -> str:
    """KQL showing every Activity Log row of the failure's correlation (for a Logs-blade link)."""
    since = failure.time - before
    return (
        f"// pullwatch: the failed deployment of {failure.kind.value} {failure.name}\n"
        f"{ACTIVITY_TABLE}\n"
        f"| where TimeGenerated > {kql_datetime(since)}\n"
        f"| where CorrelationId == {kql_string(failure.correlation_id)}\n"
        "| project TimeGenerated, OperationNameValue, ActivityStatusValue, "
        "ActivitySubstatusValue, Caller, _ResourceId, Properties_d\n"
        "| order by TimeGenerated asc\n"
    )


# --- the answer -------------------------------------------------------------------------------


class UnreadableProperties(ValueError):
    """A row's properties give no error message; the text says why (never the content)."""


@dataclass(frozen=True)
class ArmError:
    code: str
    message: str


def _maybe_datetime(value: Any) -> datetime | None:
    try:
        return read_datetime(value)
    except ValueError:
        return None


def _count(value: Any) -> int:
    try:
        return max(int(value), 1)
    except (TypeError, ValueError):
        return 1


def _load_json(text: str, what: str) -> Any:
    if len(text) > MAX_PROPERTIES_CHARS:
        raise UnreadableProperties(
            f"{what} has {len(text)} characters (over {MAX_PROPERTIES_CHARS})"
        )
    try:
        return json.loads(text)
    except ValueError:
        raise UnreadableProperties(f"{what} is not JSON") from None


def _properties(value: Any) -> Mapping[str, Any]:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise UnreadableProperties("no properties")
    if isinstance(value, str):
        value = _load_json(value, "the properties")
    if not isinstance(value, Mapping):
        raise UnreadableProperties("the properties are not a JSON object")
    return value


def _walk(error: Any, found: list[ArmError], depth: int = 0) -> None:
    """Error objects parent first, then their ``details``, depth first (bounded)."""
    if not isinstance(error, Mapping) or len(found) >= _MAX_NODES or depth > 16:
        return
    message = error.get("message")
    if isinstance(message, str) and message.strip():
        found.append(ArmError(str(error.get("code") or ""), message.strip()))
    details = error.get("details")
    if isinstance(details, Sequence) and not isinstance(details, str):
        for detail in details:
            _walk(detail, found, depth + 1)
    inner = error.get("error")
    if isinstance(inner, Mapping):
        _walk(inner, found, depth + 1)


def arm_errors(properties: Any) -> list[ArmError]:
    """Every (code, message) in a row's properties, outermost first; raises
    ``UnreadableProperties`` when there is none to read."""
    bag = _properties(properties)
    status = bag.get("statusMessage")
    if status is None or (isinstance(status, str) and not status.strip()):
        raise UnreadableProperties("no statusMessage in the properties")
    if isinstance(status, str):
        text = status.strip()
        if not text.startswith(("{", "[")):
            if len(text) > MAX_PROPERTIES_CHARS:
                raise UnreadableProperties("the statusMessage is too long")
            return [ArmError(str(bag.get("statusCode") or ""), text)]
        status = _load_json(text, "the statusMessage")
    found: list[ArmError] = []
    if isinstance(status, Mapping):
        _walk(status.get("error", status), found)
    elif isinstance(status, Sequence):
        for item in status:
            _walk(item, found)
    if not found:
        raise UnreadableProperties("the statusMessage has no error message")
    return found


def names_image(message: str) -> bool:
    """Whether an ARM message names an image field (``template.containers.<name>.image``)."""
    return _IMAGE_FIELD.search(message) is not None


def _about_image(error: ArmError) -> tuple[bool, Any]:
    diagnosis = classify(error.message)
    if names_image(error.message):
        return True, diagnosis
    named = diagnosis.image is not None or diagnosis.registry is not None
    return diagnosis.cause is not Cause.UNKNOWN and named, diagnosis


def pick_error(errors: Sequence[ArmError]) -> tuple[ArmError, bool, Any]:
    """The most useful error: the first about the image (outermost first), else the innermost."""
    for error in errors:
        about, diagnosis = _about_image(error)
        if about:
            return error, True, diagnosis
    last = errors[-1]
    return last, False, classify(last.message)


def image_of(message: str, diagnosis_image: str | None) -> str | None:
    if diagnosis_image:
        return diagnosis_image
    match = _INVALID_VALUE.search(message)
    return match.group(1) if match else None


def _resource(resource_id: str) -> tuple[str, str, str, DeploymentKind] | None:
    match = _RESOURCE_ID.match(resource_id.strip())
    if not match:
        return None
    kind = _PROVIDER_KINDS[match["type"].lower()]
    return match["subscription"].lower(), match["group"], match["name"].lower(), kind


@dataclass(frozen=True)
class _Outcome:
    failure: DeploymentFailure | None = None
    skipped: bool = False
    not_image: bool = False


def read_row(row: Mapping[str, Any]) -> _Outcome:
    """One answer row (by ``RESULT_COLUMNS`` name) as a failure, a skip or a non-image failure."""
    resource_id = str(row.get("ResourceId") or "").strip().lower()
    correlation = str(row.get("CorrelationId") or "")
    parts = _resource(resource_id)
    first = _maybe_datetime(row.get("FirstSeen"))
    if parts is None or first is None:
        log.debug(
            "activity log row skipped (correlation %s): not a container app or job write with a "
            "time",
            correlation,
        )
        return _Outcome(skipped=True)
    try:
        errors = arm_errors(row.get("Properties"))
    except UnreadableProperties as why:
        log.debug(
            "activity log row skipped (%s, correlation %s): %s", resource_id, correlation, why
        )
        return _Outcome(skipped=True)
    error, about, diagnosis = pick_error(errors)
    if not about:
        return _Outcome(not_image=True)
    subscription, group, name, kind = parts
    message = error.message[:MESSAGE_CHARS]
    failure = DeploymentFailure(
        resource_id=resource_id,
        name=name,
        kind=kind,
        subscription=subscription,
        resource_group=str(row.get("ResourceGroup") or "") or group,
        caller=str(row.get("Caller") or ""),
        time=first,
        correlation_id=correlation,
        operation=str(row.get("Operation") or "").upper(),
        error_code=error.code,
        error_message=message,
        image=image_of(error.message, diagnosis.image),
        cause=diagnosis.cause.value,
        last_seen=_maybe_datetime(row.get("LastSeen")) or first,
        last_ingested=_maybe_datetime(row.get("LastIngested")),
        rows=_count(row.get("Rows")),
    )
    return _Outcome(failure=failure)


def read_rows(rows: Iterable[Mapping[str, Any]]) -> ActivityReading:
    """The query's answer rows (by column name) as an ``ActivityReading``. Never raises on a row."""
    failures: list[DeploymentFailure] = []
    returned = matched = skipped = not_image = 0
    ingested: list[datetime] = []
    deployed: dict[str, datetime] = {}
    for row in rows:
        returned += 1
        last = _maybe_datetime(row.get("LastIngested"))
        if last is not None:
            ingested.append(last)
        if row.get("Status") == SUCCESS and not row.get("CorrelationId"):
            resource_id = str(row.get("ResourceId") or "").strip().lower()
            when = _maybe_datetime(row.get("LastSeen"))
            if resource_id and when is not None:
                deployed[resource_id] = max(when, deployed.get(resource_id, when))
            continue
        matched += _count(row.get("Rows"))
        try:
            outcome = read_row(row)
        except (TypeError, ValueError) as error:
            log.debug("activity log row skipped: %s", type(error).__name__)
            outcome = _Outcome(skipped=True)
        skipped += outcome.skipped
        not_image += outcome.not_image
        if outcome.failure is not None:
            failures.append(outcome.failure)
    failures.sort(key=lambda f: (f.time, f.resource_id, f.correlation_id))
    return ActivityReading(
        failures=tuple(failures),
        rows_returned=returned,
        rows_matched=matched,
        skipped=skipped,
        not_image=not_image,
        max_ingested=max(ingested, default=None),
        deployed=deployed,
    )


# --- raw rows (exports) -----------------------------------------------------------------------


def is_activity_export(columns: Iterable[str]) -> bool:
    """Whether an export's columns are AzureActivity's."""
    return set(columns) >= EXPORT_COLUMNS


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping | list):
        return json.dumps(value)
    return str(value)


def summarize_raw_rows(
    rows: Iterable[Mapping[str, Any]],
    *,
    since: datetime | None = None,
    ingested_after: datetime | None = None,
    ingestion_column: str | None = None,
) -> list[dict[str, Any]]:
    """Raw ``AzureActivity`` rows reduced as ``build_activity_query`` does, as answer rows."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    successes: dict[str, dict[str, Any]] = {}
    failed = {s.lower() for s in FAILED_STATUSES}
    succeeded = {s.lower() for s in SUCCEEDED_STATUSES}
    for raw in rows:
        operation = _text(raw.get("OperationNameValue"))
        status = _text(raw.get("ActivityStatusValue"))
        if operation.upper() not in OPERATIONS:
            continue
        if status.lower() not in failed | succeeded:
            continue
        moment = _maybe_datetime(raw.get("TimeGenerated"))
        if moment is None or (since is not None and moment <= since):
            continue
        ingested = None
        if ingestion_column is not None:
            ingested = _maybe_datetime(raw.get(ingestion_column))
            if ingested_after is not None and (ingested is None or ingested <= ingested_after):
                continue
        resource_id = (_text(raw.get("_ResourceId")) or _text(raw.get("ResourceId"))).lower()
        if status.lower() in succeeded:
            done = successes.setdefault(
                resource_id,
                {"ResourceId": resource_id, "Rows": 0, "FirstSeen": moment, "LastSeen": moment,
                 "LastIngested": ingested, "Status": SUCCESS},
            )  # fmt: skip
            done["Rows"] += 1
            done["FirstSeen"] = min(done["FirstSeen"], moment)
            done["LastSeen"] = max(done["LastSeen"], moment)
            if ingested is not None:
                last = done["LastIngested"]
                done["LastIngested"] = ingested if last is None else max(last, ingested)
            continue
        properties = _text(raw.get("Properties_d")) or _text(raw.get("Properties"))
        correlation = _text(raw.get("CorrelationId"))
        order = moment if properties else moment + timedelta(days=36500)
        group = groups.get((resource_id, correlation))
        if group is None:
            group = groups[(resource_id, correlation)] = {
                "ResourceId": resource_id,
                "CorrelationId": correlation,
                "Rows": 0,
                "FirstSeen": moment,
                "LastSeen": moment,
                "LastIngested": ingested,
                "_order": None,
            }
        group["Rows"] += 1
        group["FirstSeen"] = min(group["FirstSeen"], moment)
        group["LastSeen"] = max(group["LastSeen"], moment)
        if ingested is not None:
            last = group["LastIngested"]
            group["LastIngested"] = ingested if last is None else max(last, ingested)
        if group["_order"] is None or order < group["_order"]:
            group.update(
                _order=order,
                Operation=operation,
                Caller=_text(raw.get("Caller")),
                Status=status,
                Substatus=_text(raw.get("ActivitySubstatusValue")),
                SubscriptionId=_text(raw.get("SubscriptionId")),
                ResourceGroup=_text(raw.get("ResourceGroup")),
                Properties=properties,
            )
    return [
        {column: group.get(column) for column in RESULT_COLUMNS}
        for _, group in sorted(groups.items())
    ] + [successes[resource_id] for resource_id in sorted(successes)]
