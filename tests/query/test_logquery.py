"""LogAnalyticsSource against the fake endpoint, driven by the real LogsQueryClient."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError

from pullwatch.errors import QueryError
from pullwatch.fetch.filesource import FileSource
from pullwatch.fetch.logquery import LogAnalyticsSource, build_query, make_logs_client, sort_groups
from pullwatch.fetch.records import EnvironmentActivity, RevisionGroup, Signal
from pullwatch.settings import Settings, TableMode
from tests.fakes.loganalytics import FAKE_TOKEN, FakeCredential, FakeLogAnalytics
from tests.query.conftest import LEGACY_SAMPLE, RESOURCE_SAMPLE

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
LOOKBACK = timedelta(minutes=60)
LEGACY = TableMode.LEGACY.value
RESOURCE = TableMode.RESOURCE.value


def at(hhmm: str, seconds: int = 0) -> datetime:
    hours, minutes = hhmm.split(":")
    return datetime(2026, 11, 29, int(hours), int(minutes), seconds, tzinfo=UTC)


def legacy_row(
    revision: str, generated: datetime, ingested: datetime, *, reason: str = "Failed", log: str = ""
) -> dict[str, Any]:
    app = revision.split("--")[0]
    return {
        "TimeGenerated": generated.isoformat(),
        "_IngestionTime": ingested.isoformat(),
        "EnvironmentName_s": "cae-test",
        "ContainerAppName_s": app,
        "RevisionName_s": revision,
        "ReplicaName_s": f"{revision}-7d9f8c6b5-x2k4p",
        "Reason_s": reason,
        "Log_s": log or f'Failed to pull image "acr.azurecr.io/{app}:1": manifest unknown',
        "Type": LEGACY,
    }


def keyed(groups: tuple[RevisionGroup, ...]) -> dict[tuple[str, str, str], RevisionGroup]:
    return {(g.revision, g.signal.value, g.reason): g for g in groups}


def test_expected_groups_come_back_from_the_sample(log_analytics: FakeLogAnalytics) -> None:
    log_analytics.load_export(LEGACY_SAMPLE)
    result = log_analytics.source().fetch(now=NOW)
    assert not result.partial and result.warnings == ()
    groups = keyed(result.groups)
    unauthorized = groups[("payments-api--0000012", "failure", "ImagePullUnauthorized")]
    assert unauthorized.samples == ("Container pull image failed with unauthorized error.",)
    assert unauthorized.environment == "cae-prod-weu" and unauthorized.app == "payments-api"
    assert ("checkout--0000021", "success", "PulledImage") in groups
    assert ("checkout--0000021", "success", "ContainerStarted") in groups
    # noise never comes back: crash-loop BackOff, RevisionReady, KEDA, ContainerCreated
    assert not [g for g in result.groups if g.app == "web-frontend" and g.signal is Signal.FAILURE]
    assert ("billing-worker--0000016", "failure", "BackOff") not in groups
    assert {g.reason for g in result.groups}.isdisjoint(
        {"RevisionReady", "ContainerCreated", "KEDAScalersStarted"}
    )
    # which image payments-api pulls: its failure lines do not say
    pulling = groups[("payments-api--0000012", "pulling", "PullingImage")]
    assert pulling.text == "Pulling image 'acrpullwatchprod.azurecr.io/payments-api:2024.11.3'"
    # back-off lines come back apart from the attempts, and only attempts carry their rows
    orders = [g for g in result.groups if g.revision == "orders-api--0000007"]
    assert {g.signal for g in orders} >= {Signal.FAILURE, Signal.BACKOFF}
    assert all(not g.rows for g in orders if g.signal is not Signal.FAILURE)
    attempts = [g for g in orders if g.signal is Signal.FAILURE]
    assert sum(len(g.rows) for g in attempts) < sum(g.count for g in attempts)  # duplicates
    # every environment's activity: all its rows, noise included
    activity = {a.environment: a for a in result.activity}
    assert set(activity) == {g.environment for g in result.groups}
    assert sum(a.rows for a in activity.values()) > result.rows_matched
    assert result.rows_matched == sum(g.count for g in result.groups)
    assert len(result.groups) < result.rows_matched / 10  # O(revisions), not O(lines)
    assert result.max_ingested == max(g.last_ingested for g in result.groups if g.last_ingested)
    [request] = log_analytics.requests
    assert request.authorization == f"Bearer {FAKE_TOKEN}"
    assert request.body["timespan"] is None


def test_the_overlap_rereads_late_rows_and_nothing_older(log_analytics: FakeLogAnalytics) -> None:
    watermark = at("08:30")
    log_analytics.load_rows(
        LEGACY,
        [
            legacy_row("late--0000001", at("08:20"), at("08:33")),  # late: before W, ingested after
            legacy_row("old--0000001", at("08:20"), at("08:25")),  # ingested before W
            legacy_row("edge--0000001", at("08:29"), watermark),  # ingested exactly at W
            legacy_row("fresh--0000001", at("08:40"), at("08:44")),
            legacy_row("ancient--0000001", at("07:20"), at("08:40")),  # before W - lookback
        ],
    )
    result = log_analytics.source().fetch(watermarks={"*": watermark}, now=NOW)
    # within the lookback behind the watermark everything is read again, whenever it was
    # ingested (the ledger counts each row once); older rows are not
    assert sorted(g.revision for g in result.groups) == [
        "edge--0000001",
        "fresh--0000001",
        "late--0000001",
        "old--0000001",
    ]
    assert result.horizon == watermark - LOOKBACK
    late = keyed(result.groups)[("late--0000001", "failure", "Failed")]
    assert late.first_seen == at("08:20") and late.last_ingested == at("08:33")
    assert result.max_ingested == at("08:44")


def test_duplicates_collapse_into_the_count(log_analytics: FakeLogAnalytics) -> None:
    row = legacy_row("dup--0000001", at("08:10"), at("08:14"))
    log_analytics.load_rows(
        LEGACY, [row, row, row, legacy_row("dup--0000001", at("08:12"), at("08:15"))]
    )
    result = log_analytics.source(TableMode.LEGACY).fetch(now=NOW)
    [group] = result.groups
    assert group.count == 4 and result.rows_matched == 4
    assert len(group.samples) == 1
    assert (group.first_seen, group.last_seen) == (at("08:10"), at("08:12"))


def test_texts_are_bounded(log_analytics: FakeLogAnalytics) -> None:
    # 30 messages of 5000 characters that differ only after the first 2000: one group
    rows = [
        legacy_row(
            "many--0000001",
            at("08:10", s),
            at("08:20"),
            log=f"Failed to pull image {'x' * 5000}{s}",
        )
        for s in range(30)
    ]
    log_analytics.load_rows(LEGACY, rows)
    [group] = log_analytics.source(TableMode.LEGACY).fetch(now=NOW).groups
    assert group.count == 30 and len(group.rows) == 30
    assert len(group.text) == 2000 and group.samples == (group.text,)


@pytest.mark.parametrize("mode", list(TableMode), ids=lambda m: m.value)
def test_file_source_and_query_give_the_same_groups(
    log_analytics: FakeLogAnalytics, mode: TableMode
) -> None:
    samples = {LEGACY: LEGACY_SAMPLE, RESOURCE: RESOURCE_SAMPLE}
    for path in samples.values():
        log_analytics.load_export(path)
    wanted = [LEGACY, RESOURCE] if mode is TableMode.AUTO else [mode.value]
    from_files: list[RevisionGroup] = []
    activity: set[EnvironmentActivity] = set()
    rows_matched = 0
    for table in wanted:
        result = FileSource(samples[table], LOOKBACK).fetch(now=NOW)
        from_files.extend(result.groups)
        activity.update(dataclasses.replace(a, workspace="") for a in result.activity)
        rows_matched += result.rows_matched
    from_kql = log_analytics.source(mode).fetch(now=NOW)
    comparable = tuple(
        dataclasses.replace(g, last_ingested=None, workspace="") for g in from_kql.groups
    )
    assert comparable == sort_groups(dataclasses.replace(g, workspace="") for g in from_files)
    assert {dataclasses.replace(a, workspace="") for a in from_kql.activity} == activity
    assert from_kql.rows_matched == rows_matched
    assert any(g.rows for g in comparable)  # attempt rows came back, the same on both paths
    assert not from_kql.partial


def test_several_workspaces_one_query_each(log_analytics: FakeLogAnalytics) -> None:
    other = "99999999-8888-7777-6666-555555555555"
    log_analytics.load_export(LEGACY_SAMPLE)
    log_analytics.load_export(RESOURCE_SAMPLE, workspace=other)
    source = log_analytics.source(workspace_ids=[log_analytics.workspace_id, other])
    result = source.fetch(now=NOW)
    assert sorted(r.workspace for r in log_analytics.requests) == sorted(
        [log_analytics.workspace_id, other]
    )
    assert {w.workspace for w in result.workspaces} == {log_analytics.workspace_id, other}
    assert {g.environment for g in result.groups} == {
        "cae-prod-weu",
        "cae-stage-weu",
        "cae-platform-eus",
        "cae-dev-eus",
    }
    assert not result.partial


# --- missing tables ---------------------------------------------------------------------------


def test_auto_with_one_table_is_not_partial(log_analytics: FakeLogAnalytics) -> None:
    log_analytics.load_export(RESOURCE_SAMPLE)  # the workspace has no ContainerAppSystemLogs_CL
    result = log_analytics.source().fetch(watermarks={"*": at("08:00")}, now=NOW)
    assert result.groups and not result.partial and result.warnings == ()


def test_auto_with_no_table_is_empty_with_a_warning(log_analytics: FakeLogAnalytics) -> None:
    result = log_analytics.source().fetch(now=NOW)
    assert result.groups == () and not result.partial and result.max_ingested is None
    [warning] = result.warnings
    assert log_analytics.workspace_id in warning and "neither" in warning


def test_a_named_table_that_is_missing_is_an_error(log_analytics: FakeLogAnalytics) -> None:
    log_analytics.load_export(RESOURCE_SAMPLE)
    with pytest.raises(QueryError, match=r"HTTP 400.*ContainerAppSystemLogs_CL.*PULLWATCH_TABLE"):
        log_analytics.source(TableMode.LEGACY).fetch(now=NOW)


# --- result handling --------------------------------------------------------------------------


def test_partial_result_keeps_the_data_and_says_partial(log_analytics: FakeLogAnalytics) -> None:
    log_analytics.load_export(LEGACY_SAMPLE)
    log_analytics.partial_next("Query result set has exceeded the internal data size limit")
    result = log_analytics.source().fetch(now=NOW)
    assert result.partial
    assert result.groups and result.rows_matched > 0
    [warning] = result.warnings
    assert log_analytics.workspace_id in warning and "PartialError" in warning
    assert "exceeded the internal data size limit" in warning


def test_a_warning_about_something_else_is_partial(log_analytics: FakeLogAnalytics) -> None:
    log_analytics.load_export(LEGACY_SAMPLE)
    log_analytics.partial_next("Failed to resolve table expression named 'Heartbeat'", "Warning")
    assert log_analytics.source().fetch(now=NOW).partial


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (400, "rejected"),
        (401, "token was refused"),
        (403, "Log Analytics Reader"),
        (404, "no such workspace"),
    ],
)
def test_http_errors_name_the_workspace_and_status(
    log_analytics: FakeLogAnalytics, status: int, words: str
) -> None:
    log_analytics.fail_next(status)
    with pytest.raises(QueryError) as caught:
        log_analytics.source().fetch(now=NOW)
    message = str(caught.value)
    assert log_analytics.workspace_id in message and f"HTTP {status}" in message
    assert words in message
    assert FAKE_TOKEN not in message
    assert len(log_analytics.requests) == 1  # 4xx other than 408/429 are not retried


def test_429_then_200_is_retried_by_azure_core(log_analytics: FakeLogAnalytics) -> None:
    log_analytics.load_export(LEGACY_SAMPLE)
    log_analytics.fail_next(429, headers={"Retry-After": "30"})  # capped: tests never sleep
    log_analytics.fail_next(503)
    result = log_analytics.source().fetch(now=NOW)
    assert len(log_analytics.requests) == 3
    assert result.groups and not result.partial


def test_retries_are_bounded(log_analytics: FakeLogAnalytics) -> None:
    for _ in range(10):
        log_analytics.fail_next(503)
    with pytest.raises(QueryError, match="HTTP 503"):
        log_analytics.source(retry_total=2).fetch(now=NOW)
    assert len(log_analytics.requests) == 3


def test_empty_answer_means_nothing_new(log_analytics: FakeLogAnalytics) -> None:
    log_analytics.load_export(LEGACY_SAMPLE)
    log_analytics.empty_next()
    result = log_analytics.source().fetch(watermarks={"*": at("08:30")}, now=NOW)
    assert result.groups == () and result.max_ingested is None
    assert not result.partial and result.rows_matched == 0


def test_unreachable_endpoint_is_a_query_error() -> None:
    client = make_logs_client("http://127.0.0.1:9/v1", FakeCredential(), retry_total=0)
    source = LogAnalyticsSource(
        client, workspace_ids=["w1"], query_options={"enforce_https": False}
    )
    with pytest.raises(QueryError, match="workspace w1: no answer"):
        source.fetch(now=NOW)


def test_from_settings_uses_endpoint_table_and_lookback() -> None:
    class Credential:
        def get_token(self, *scopes: str, **kwargs: Mapping[str, Any]) -> Any:
            raise AssertionError("no request is made")

    settings = Settings(
        workspace_ids=("11111111-2222-3333-4444-555555555555",),
        logs_endpoint="https://api.loganalytics.us/v1",
        table=TableMode.RESOURCE,
        lookback=timedelta(minutes=90),
    )
    source = LogAnalyticsSource.from_settings(settings, credential=Credential())  # type: ignore[arg-type]
    assert source.table is TableMode.RESOURCE and source.lookback == timedelta(minutes=90)
    assert source.workspace_ids == settings.workspace_ids
    assert source.client._endpoint == "https://api.loganalytics.us"
    assert source.query(now=NOW) == build_query(
        TableMode.RESOURCE, now=NOW, lookback=timedelta(minutes=90)
    )


def test_a_credential_failure_is_a_query_error(log_analytics: FakeLogAnalytics) -> None:
    class NoToken:
        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            raise ClientAuthenticationError("ManagedIdentityCredential: no identity endpoint")

    client = make_logs_client(log_analytics.endpoint, NoToken(), retry_total=0)  # type: ignore[arg-type]
    source = LogAnalyticsSource(
        client, workspace_ids=["w1"], query_options={"enforce_https": False}
    )
    with pytest.raises(QueryError, match=r"workspace w1: could not get a token.*no identity"):
        source.fetch(now=NOW)
    assert log_analytics.requests == []
