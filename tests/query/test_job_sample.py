"""samples/job-system-logs.json: a Container Apps job failing to pull, in the legacy table's shape
(JobName_s, no revision, replicas named <execution>-<suffix>); the declared schemas know the job
columns of both tables, and the fake endpoint runs a query over them on the sample."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pytest

from classifiers import Cause, classify, is_failure_row, is_success_row
from pullwatch.fetch.jobs import execution_of, job_key
from pullwatch.settings import TableMode
from tests.fakes.loganalytics import FakeLogAnalytics, export_rows
from tests.query.conftest import SAMPLES, KustoChecker

JOB_SAMPLE = SAMPLES / "job-system-logs.json"
JOB = "invoice-export"
IMAGE = "acrcorpnet.azurecr.io/invoice-export:3.2.0"
# Failures and successes per job execution, over both system-log tables.
JOB_QUERY = """
union isfuzzy=true
    (ContainerAppSystemLogs_CL
    | where TimeGenerated > datetime(2026-11-29T08:00:00Z)
    | project TimeGenerated, Environment = EnvironmentName_s, Job = JobName_s,
        Revision = RevisionName_s, Replica = ReplicaName_s, Reason = Reason_s, Log = Log_s),
    (ContainerAppSystemLogs
    | where TimeGenerated > datetime(2026-11-29T08:00:00Z)
    | project TimeGenerated, Environment = EnvironmentName, Job = JobName,
        Revision = RevisionName, Replica = ReplicaName, Reason, Log)
| where Job != ""
| extend Signal = case(Reason in~ ("Failed", "ImagePullUnauthorized"), "failure",
    Reason in~ ("PulledImage", "ContainerStarted"), "success", "")
| where Signal != ""
| summarize Count = count(), FirstSeen = min(TimeGenerated) by Environment, Job, Revision, Replica, Signal
"""


def rows() -> list[dict[str, object]]:
    return export_rows(JOB_SAMPLE)


def test_job_rows_have_a_job_name_no_revision_and_execution_replicas() -> None:
    sample = rows()
    assert {(r["JobName_s"], r["ContainerAppName_s"], r["RevisionName_s"]) for r in sample} == {
        (JOB, "", "")
    }
    executions = {execution_of(str(r["ReplicaName_s"]), JOB) for r in sample}
    # the third execution, which pulls, is in demo-recovery.json (the demo's third tick)
    assert executions == {"invoice-export-q4w7n2c", "invoice-export-h8d3m5t"}
    later = [r for r in export_rows(SAMPLES / "demo-recovery.json") if r.get("JobName_s") == JOB]
    assert {execution_of(str(r["ReplicaName_s"]), JOB) for r in later} == {"invoice-export-z6b1x4k"}


def test_failures_and_the_later_success_are_what_the_classifier_sees() -> None:
    by_execution: dict[str, set[str]] = defaultdict(set)
    later = [r for r in export_rows(SAMPLES / "demo-recovery.json") if r.get("JobName_s") == JOB]
    for row in [*rows(), *later]:
        reason, message = str(row["Reason_s"]), str(row["Log_s"])
        execution = execution_of(str(row["ReplicaName_s"]), JOB)
        if is_failure_row(message, reason):
            diagnosis = classify(message, reason)
            if reason == "Failed":  # BackOff rows name the image and no cause
                assert (diagnosis.cause, diagnosis.image) == (Cause.REGISTRY_FIREWALL, IMAGE)
                assert diagnosis.client_ip == "20.103.44.23"
            by_execution[execution].add("failure")
        elif is_success_row(message, reason):
            by_execution[execution].add("success")
    assert dict(by_execution) == {
        "invoice-export-q4w7n2c": {"failure"},
        "invoice-export-h8d3m5t": {"failure"},
        "invoice-export-z6b1x4k": {"success"},
    }


def test_the_job_columns_pass_the_kusto_language_service(kusto: KustoChecker) -> None:
    [result] = kusto.check([JOB_QUERY])
    assert result["ok"], result["diagnostics"]
    assert result["diagnostics"] == []
    for column, typo in (("JobName_s", "JobName_S"), ("JobName,", "JobNam,")):
        [broken] = kusto.check([JOB_QUERY.replace(column, typo, 1)])
        assert not broken["ok"], column


def test_the_fake_endpoint_runs_a_job_query_on_the_sample(log_analytics: FakeLogAnalytics) -> None:
    assert log_analytics.load_export(JOB_SAMPLE) == TableMode.LEGACY.value
    log_analytics.load_rows(TableMode.RESOURCE.value, [])  # both tables exist, one is empty
    response = log_analytics.client().query_workspace(
        log_analytics.workspace_id, JOB_QUERY, timespan=None, enforce_https=False
    )
    [table] = response.tables
    answer = [dict(zip(table.columns, row, strict=True)) for row in table.rows]
    groups = {(execution_of(str(r["Replica"]), JOB), r["Signal"]): r["Count"] for r in answer}
    assert groups == {
        ("invoice-export-q4w7n2c", "failure"): 3,
        ("invoice-export-h8d3m5t", "failure"): 3,
    }
    assert {job_key(str(r["Environment"]), str(r["Job"])) for r in answer} == {
        "cae-prod-weu/job/invoice-export"
    }
    assert {r["Revision"] for r in answer} == {""}
    first = min(r["FirstSeen"] for r in answer)
    assert first == datetime(2026, 11, 29, 8, 45, 3, 650000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("replica", "job", "execution"),
    [
        ("invoice-export-q4w7n2c-kq7xz", "invoice-export", "invoice-export-q4w7n2c"),
        ("invoice-export-q4w7n2c-kq7xz", "", "invoice-export-q4w7n2c"),
        ("", "invoice-export", ""),
        ("invoice-export-kq7xz", "invoice-export", ""),  # no execution part left
        ("other-job-a1b2c3d-kq7xz", "invoice-export", ""),
        ("nosuffix", "", ""),
    ],
)
def test_execution_of(replica: str, job: str, execution: str) -> None:
    assert execution_of(replica, job) == execution
