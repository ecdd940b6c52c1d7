"""Links that land on the evidence: the share link's round trip, the query inside it checked by the
Kusto language service and run on the fake Log Analytics endpoint, and which resource it opens."""

from __future__ import annotations

import base64
import gzip
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest

from classifiers.signals import is_failure_row
from notifiers.alert import Alert, AlertKind
from notifiers.text import safe_url
from pullwatch.decide.alerts import (
    LOGS_LINK_LABEL,
    AlertContext,
    evidence_from_observation,
    storm_link,
)
from pullwatch.decide.observe import RevisionObservation, observe
from pullwatch.fetch.filesource import FileSource
from pullwatch.fetch.portal import decode_query, encode_query, revision_query, share_link
from pullwatch.settings import TableMode
from tests.fakes.loganalytics import FakeLogAnalytics, export_rows
from tests.query.conftest import LEGACY_SAMPLE, RESOURCE_SAMPLE, KustoChecker

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
WORKSPACE = (
    "/subscriptions/3f2c1b7e-5a4d-4e0f-9c8b-1d2e3f4a5b6c/resourceGroups/rg-monitor/providers/"
    "Microsoft.OperationalInsights/workspaces/log-shop"
)


def observations(path: object) -> dict[str, RevisionObservation]:
    source = FileSource(path, timedelta(hours=1))  # type: ignore[arg-type]
    return {o.revision: o for o in observe(source.fetch(now=NOW).groups)}


def logs_link_of(observation: RevisionObservation, context: AlertContext) -> str | None:
    links = evidence_from_observation(observation, context).links
    return next((link.url for link in links if link.label == LOGS_LINK_LABEL), None)


def test_the_query_survives_the_round_trip() -> None:
    query = "// é ü\nContainerAppSystemLogs | take 1\n" + "x" * 3000
    link = share_link("https://portal.azure.com", WORKSPACE, query)
    assert decode_query(link) == query
    assert "/" not in encode_query(query) and "+" not in encode_query(query)
    # Read as the portal does, without this module: URL-decode, base64, gunzip.
    packed = base64.b64decode(unquote(link.split("/q/", 1)[1].split("/", 1)[0]), validate=True)
    assert packed[:2] == b"\x1f\x8b" and gzip.decompress(packed).decode("utf-8") == query


@pytest.mark.parametrize("table", list(TableMode))
def test_each_alert_links_to_its_revision_in_the_workspace(
    table: TableMode, kusto: KustoChecker
) -> None:
    context = AlertContext(workspace_resource_id=WORKSPACE, table=table)
    orders = observations(LEGACY_SAMPLE)["orders-api--0000007"]
    link = logs_link_of(orders, context)
    assert link is not None and safe_url(link) == link and len(link) < 2000
    assert link.startswith(
        "https://portal.azure.com/#blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/resourceId/"
        "%2Fsubscriptions%2F3f2c1b7e-5a4d-4e0f-9c8b-1d2e3f4a5b6c%2FresourceGroups%2Frg-monitor"
        "%2Fproviders%2FMicrosoft.OperationalInsights%2Fworkspaces%2Flog-shop"
        "/source/LogsBlade.AnalyticsShareLinkToQuery/q/"
    )
    assert link.endswith("/timespan/P7D")
    query = decode_query(link)
    assert query == revision_query(
        table,
        environment="cae-prod-weu",
        app="orders-api",
        revision="orders-api--0000007",
        since=datetime(2026, 11, 29, 7, 47, 31, 140000, tzinfo=UTC),
    )
    assert 'Revision == "orders-api--0000007"' in query
    [checked] = kusto.check([query])
    assert checked["ok"], checked["diagnostics"]


def test_the_linked_query_finds_the_revisions_failures(log_analytics: FakeLogAnalytics) -> None:
    """Run the decoded query on the fake endpoint (duckdb-kql over the sample rows)."""
    log_analytics.load_export(RESOURCE_SAMPLE)
    context = AlertContext(workspace_resource_id=WORKSPACE, table=TableMode.RESOURCE)
    edge = observations(RESOURCE_SAMPLE)["edge-proxy--0000001"]
    link = logs_link_of(edge, context)
    assert link is not None
    response = log_analytics.client().query_workspace(
        log_analytics.workspace_id, decode_query(link), timespan=None, enforce_https=False
    )
    [table] = response.tables
    rows = [dict(zip(table.columns, row, strict=True)) for row in table.rows]
    failure_rows = [
        r
        for r in export_rows(RESOURCE_SAMPLE)
        if r["RevisionName"] == "edge-proxy--0000001" and is_failure_row(r["Log"], r["Reason"])
    ]
    assert len(rows) == len(failure_rows) and edge.failure_count <= len(rows)
    assert {r["Revision"] for r in rows} == {"edge-proxy--0000001"}
    assert all("toomanyrequests" in r["Log"] or r["Reason"] for r in rows)


def test_without_a_workspace_the_environment_is_the_scope() -> None:
    edge = observations(RESOURCE_SAMPLE)["edge-proxy--0000001"]
    link = logs_link_of(edge, AlertContext())
    assert link is not None
    scope = unquote(link.split("/resourceId/")[1].split("/source/")[0])
    assert scope == edge.resource_id and "/MANAGEDENVIRONMENTS/" in scope
    assert decode_query(link).startswith("// pullwatch")
    assert "ContainerAppSystemLogs_CL" not in decode_query(link)  # resource context: one table
    legacy = observations(LEGACY_SAMPLE)["orders-api--0000007"]
    assert logs_link_of(legacy, AlertContext()) is None  # _CL rows name no resource


def test_the_storm_link_covers_every_alert(kusto: KustoChecker) -> None:
    context = AlertContext(workspace_resource_id=WORKSPACE)
    alerts = [
        Alert(
            kind=AlertKind.FIRING,
            environment=o.environment,
            app=o.app,
            revision=o.revision,
            cause=o.diagnosis.cause.value if o.diagnosis else "unknown",
            cause_title="t",
            summary="s",
            first_seen=o.first_failure,
            last_seen=o.last_failure,
        )
        for o in observations(LEGACY_SAMPLE).values()
        if o.failing
    ]
    link = storm_link(alerts, context)
    assert link is not None and safe_url(link.url) == link.url
    query = decode_query(link.url)
    earliest = min(a.first_seen for a in alerts if a.first_seen) - timedelta(minutes=15)
    assert earliest.strftime("%Y-%m-%dT%H:%M:%S") in query
    assert "by Environment, App, Revision" in query
    [checked] = kusto.check([query])
    assert checked["ok"], checked["diagnostics"]
    assert storm_link(alerts, AlertContext()) is None
