"""Links that land on the evidence: the KQL for one revision's failures (or a whole storm) and the
Azure portal link that opens the Logs blade with it pre-filled. Pure: no I/O.

The link is the portal's share-link format (what the Logs blade's "Share → Copy link to query"
writes): ``{portal}/#blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/resourceId/<resource id,
URL-encoded>/source/LogsBlade.AnalyticsShareLinkToQuery/q/<query>/timespan/<ISO 8601>``, where
the query is gzip-compressed, base64-encoded and URL-encoded (``encode_query``; ``decode_query``
reverses it, for the tests). The resource is the Log Analytics workspace when its ARM id is
known (``PULLWATCH_WORKSPACE_RESOURCE_ID``), else the Container Apps environment the rows name in
``_ResourceId`` (resource-context logs, ``ContainerAppSystemLogs`` only; the legacy ``_CL`` rows
carry no resource id). The queries are built from the same column map and failure filter as the
tick's query (``pullwatch.fetch.logquery``), with literal times, so a link opened days later shows
the same rows, and later ones.
"""

from __future__ import annotations

import base64
import gzip
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import quote, unquote

from pullwatch.fetch.kql import kql_datetime, kql_string
from pullwatch.fetch.logquery import TABLES, column_projection, failure_predicate
from pullwatch.settings import TableMode

LOGS_BLADE = "blade/Microsoft_Azure_Monitoring_Logs/LogsBlade"
SHARE_SOURCE = "LogsBlade.AnalyticsShareLinkToQuery"
TIMESPAN = "P7D"  # the blade's time range; the query's own TimeGenerated filter narrows it
BEFORE = timedelta(minutes=15)  # the query starts this long before the first failure
_QUERY_PART = re.compile(r"/q/([^/]+)")
_ENVIRONMENT_ID = re.compile(
    r"^/subscriptions/[^/\s]+/resourceGroups/[^/\s]+/providers/"
    r"Microsoft\.App/managedEnvironments/[^/\s]+$",
    re.IGNORECASE,
)


def _legs(table: TableMode, since: datetime) -> str:
    legs = []
    for mode in TABLES[table]:
        projection = column_projection(mode)
        legs.append(
            f"{mode.value}\n    | where TimeGenerated > {kql_datetime(since)}\n"
            f"    | project TimeGenerated, {projection}"
        )
    if len(legs) == 1:
        return legs[0]
    return "union isfuzzy=true\n" + ",\n".join(
        "    (" + leg.replace("\n", "\n    ") + ")" for leg in legs
    )


def revision_query(
    table: TableMode,
    *,
    environment: str,
    app: str,
    revision: str,
    since: datetime,
    job: str = "",
) -> str:
    """The failure rows of one revision (or of a job, ``job``) since ``since``, oldest first."""
    if job and not revision:
        match = [f"Job == {kql_string(job)}"]
        what = f"job {_comment(job)}"
    else:
        match = [f"App == {kql_string(app)}", f"Revision == {kql_string(revision)}"]
        what = f"{_comment(app)} revision {_comment(revision)}"
    if environment:
        match.insert(0, f"Environment == {kql_string(environment)}")
    return (
        f"// pullwatch: image-pull failures of {what}"
        f"{' in ' + _comment(environment) if environment else ''}\n"
        f"{_legs(table, since)}\n"
        f"| where {' and '.join(match)}\n"
        f"| where {failure_predicate()}\n"
        "| project TimeGenerated, Environment, App, Revision, Job, Replica, Reason, Log\n"
        "| order by TimeGenerated asc\n"
    )


def storm_query(table: TableMode, *, since: datetime) -> str:
    """Every failing revision since ``since``: failures, first and last seen, a sample line."""
    return (
        "// pullwatch: every revision whose image pulls failed\n"
        f"{_legs(table, since)}\n"
        f"| where {failure_predicate()}\n"
        "| summarize Failures = count(), FirstSeen = min(TimeGenerated), "
        "LastSeen = max(TimeGenerated), Sample = take_any(Log)\n"
        "    by Environment, App, Revision\n"
        "| order by Failures desc\n"
    )


def _comment(text: str) -> str:
    """Text safe inside a ``//`` comment line."""
    return "".join(ch if ch.isprintable() else " " for ch in text)[:100]


def encode_query(query: str) -> str:
    """gzip, base64, URL-encode: the ``q`` part of a share link."""
    packed = gzip.compress(query.encode("utf-8"), mtime=0)
    return quote(base64.b64encode(packed).decode("ascii"), safe="")


def decode_query(link: str) -> str:
    """The query inside a share link (the inverse of ``encode_query``)."""
    match = _QUERY_PART.search(link)
    if match is None:
        raise ValueError("not a Logs blade share link (no /q/ part)")
    return gzip.decompress(base64.b64decode(unquote(match.group(1)))).decode("utf-8")


def share_link(portal_url: str, resource_id: str, query: str, timespan: str = TIMESPAN) -> str:
    """The portal link opening the Logs blade of ``resource_id`` with ``query`` pre-filled."""
    return (
        f"{portal_url.rstrip('/')}/#{LOGS_BLADE}/resourceId/{quote(resource_id, safe='')}"
        f"/source/{SHARE_SOURCE}/q/{encode_query(query)}/timespan/{timespan}"
    )


def logs_scope(
    workspace_resource_id: str | None, row_resource_ids: Sequence[str], table: TableMode
) -> tuple[str, TableMode] | None:
    """Which resource a link opens, and which table its query reads: the workspace (the
    configured table mode), else the environment the rows name (the resource-specific table)."""
    if workspace_resource_id:
        return workspace_resource_id, table
    for resource_id in row_resource_ids:
        if _ENVIRONMENT_ID.match(resource_id):
            return resource_id, TableMode.RESOURCE
    return None
