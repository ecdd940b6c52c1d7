"""The Activity Log part: the KQL (checked by Microsoft's Kusto language service and run by
duckdb-kql behind the fake Log Analytics endpoint with the real LogsQueryClient) and the reading
of its answer into DeploymentFailures, on samples/azure-activity.json and on real ARM messages."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from classifiers import Cause
from pullwatch.fetch.activity import (
    ACTIVITY_TABLE,
    FAILED_STATUSES,
    MAX_PROPERTIES_CHARS,
    OPERATIONS,
    RESULT_COLUMNS,
    SUCCEEDED_STATUSES,
    ArmError,
    UnreadableProperties,
    arm_errors,
    build_activity_query,
    correlation_query,
    is_activity_export,
    read_rows,
    summarize_raw_rows,
)
from pullwatch.fetch.kql import kql_string
from pullwatch.fetch.records import DeploymentFailure, DeploymentKind
from tests.fakes.loganalytics import INGESTION_COLUMN, FakeLogAnalytics, export_rows
from tests.query.conftest import SAMPLES, SCHEMAS, KustoChecker

ACTIVITY_SAMPLE = SAMPLES / "azure-activity.json"
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
LOOKBACK = timedelta(minutes=60)
WATERMARK = datetime(2026, 11, 29, 8, 39, 0, tzinfo=UTC)
SUB = "6f1e2d3c-4b5a-4978-8a1b-2c3d4e5f6a7b"
SHIPPING = f"/subscriptions/{SUB}/resourcegroups/rg-shop-prod/providers/microsoft.app/containerapps/shipping"
CATALOG = f"/subscriptions/{SUB}/resourcegroups/rg-shop-stage/providers/microsoft.app/containerapps/catalog-web"
NIGHTLY = (
    f"/subscriptions/{SUB}/resourcegroups/rg-shop-prod/providers/microsoft.app/jobs/nightly-reports"
)


def fetch(fake: FakeLogAnalytics, query: str) -> list[dict[str, Any]]:
    """The query's answer rows through the real LogsQueryClient (plain http to the fake)."""
    response = fake.client().query_workspace(
        fake.workspace_id, query, timespan=None, enforce_https=False
    )
    [table] = response.tables
    return [dict(zip(table.columns, row, strict=True)) for row in table.rows]


def by_resource(failures: tuple[DeploymentFailure, ...]) -> dict[str, DeploymentFailure]:
    return {f.resource_id: f for f in failures}


# --- the query on the sample ------------------------------------------------------------------


def test_the_sample_gives_one_failure_per_image_deployment(log_analytics: FakeLogAnalytics) -> None:
    assert log_analytics.load_export(ACTIVITY_SAMPLE) == ACTIVITY_TABLE
    query = build_activity_query(watermark=None, now=NOW, lookback=LOOKBACK)
    rows = fetch(log_analytics, query)
    assert [list(row) for row in rows[:1]] == [list(RESULT_COLUMNS)]
    reading = read_rows(rows)
    failures = by_resource(reading.failures)
    assert set(failures) == {SHIPPING, CATALOG, NIGHTLY}

    shipping = failures[SHIPPING]
    assert (shipping.kind, shipping.name, shipping.caller) == (
        DeploymentKind.APP,
        "shipping",
        "dana.fischer@contoso.com",
    )
    assert shipping.cause == Cause.REGISTRY_UNAUTHORIZED.value
    assert shipping.image == "acrpullwatchprod.azurecr.io/shipping:5.3.0"
    assert shipping.error_code == "InvalidParameterValueInContainerTemplate"
    assert "unable to pull image using Managed identity" in shipping.error_message
    assert shipping.rows == 2  # the Failure row and the legacy Failed row without properties
    assert shipping.time == datetime(2026, 11, 29, 8, 20, 9, 879000, tzinfo=UTC)  # the Failed row
    assert (shipping.subscription, shipping.resource_group) == (SUB, "rg-shop-prod")
    assert shipping.operation == "MICROSOFT.APP/CONTAINERAPPS/WRITE"

    catalog = failures[CATALOG]
    # the outer ResourceDeploymentFailure says nothing; the nested detail names the image
    assert catalog.error_code == "ContainerAppOperationError"
    assert catalog.cause == Cause.IMAGE_NOT_FOUND.value
    assert catalog.image == "acrstage.azurecr.io/catalog-web:2.1.0"
    assert catalog.caller == "4b8e2f1a-7c3d-4e5f-9a6b-8c7d6e5f4a3b"  # a service principal

    job = failures[NIGHTLY]
    assert (job.kind, job.name, job.operation) == (
        DeploymentKind.JOB,
        "nightly-reports",
        "MICROSOFT.APP/JOBS/WRITE",
    )
    assert job.cause == Cause.REGISTRY_UNAUTHORIZED.value
    assert job.image == "acrpullwatchprod.azurecr.io/nightly-reports:2026.11.29"

    # reports (ARM's own 500) and notifications (schema) are not about the image; inventory's
    # failed row lost its properties; environment and deployment writes are not read at all
    # and web-frontend and invoice-export were written successfully (a row each)
    assert (reading.rows_returned, reading.rows_matched) == (8, 7)
    assert (reading.not_image, reading.skipped) == (2, 1)
    # the watermark moves past every row returned, kept or not (inventory's, 08:50:33.5 + 5 min)
    assert reading.max_ingested == datetime(2026, 11, 29, 8, 55, 33, 500000, tzinfo=UTC)


def test_rows_returned_versus_rows_matched_on_the_sample(log_analytics: FakeLogAnalytics) -> None:
    """The figure the issue's closing note asks for: what the reduction saves on the sample."""
    log_analytics.load_export(ACTIVITY_SAMPLE)
    query = build_activity_query(watermark=None, now=NOW, lookback=LOOKBACK)
    reading = read_rows(fetch(log_analytics, query))
    table_rows = len(export_rows(ACTIVITY_SAMPLE))
    # 6 failed writes (one per resource and correlation) and 2 resources' newest successful write
    assert (table_rows, reading.rows_matched, reading.rows_returned) == (23, 7, 8)
    assert len(reading.failures) == 3 and len(reading.deployed) == 2


def test_the_watermark_rereads_its_overlap_and_nothing_older(
    log_analytics: FakeLogAnalytics,
) -> None:
    log_analytics.load_export(ACTIVITY_SAMPLE)  # ingested 5 minutes after TimeGenerated
    later = build_activity_query(watermark=WATERMARK, now=NOW, lookback=LOOKBACK)
    reading = read_rows(fetch(log_analytics, later))
    # the lookback behind the watermark is read again (the ledger drops a correlation it has)
    assert set(by_resource(reading.failures)) == {SHIPPING, CATALOG, NIGHTLY}
    assert reading.max_ingested is not None and reading.max_ingested > WATERMARK
    short = build_activity_query(watermark=WATERMARK, now=NOW, lookback=timedelta(minutes=5))
    # shipping (08:20) and catalog-web (08:33) are older than 08:39 - 5 min
    assert set(by_resource(read_rows(fetch(log_analytics, short)).failures)) == {NIGHTLY}
    nothing = build_activity_query(watermark=NOW + LOOKBACK, now=NOW, lookback=LOOKBACK)
    assert fetch(log_analytics, nothing) == []


def test_a_late_row_is_read_within_the_lookback(log_analytics: FakeLogAnalytics) -> None:
    rows = export_rows(ACTIVITY_SAMPLE)
    late = [copy.deepcopy(r) for r in rows if r["ResourceId"].endswith("/SHIPPING")]
    for row in late:
        row[INGESTION_COLUMN] = (WATERMARK + timedelta(minutes=10)).isoformat()
    log_analytics.load_rows(ACTIVITY_TABLE, late)
    query = build_activity_query(watermark=WATERMARK, now=NOW, lookback=LOOKBACK)
    assert set(by_resource(read_rows(fetch(log_analytics, query)).failures)) == {SHIPPING}
    too_old = build_activity_query(watermark=WATERMARK, now=NOW, lookback=timedelta(minutes=10))
    assert fetch(log_analytics, too_old) == []  # TimeGenerated 08:20 is before 08:39 - 10 min


def test_a_file_export_gives_the_same_failures_as_the_workspace(
    log_analytics: FakeLogAnalytics,
) -> None:
    log_analytics.load_export(ACTIVITY_SAMPLE)
    query = build_activity_query(watermark=None, now=NOW, lookback=LOOKBACK)
    from_workspace = read_rows(fetch(log_analytics, query))
    raw = export_rows(ACTIVITY_SAMPLE)
    from_file = read_rows(summarize_raw_rows(raw, since=NOW - LOOKBACK))
    strip = [
        (f.resource_id, f.correlation_id, f.time, f.caller, f.error_code, f.image, f.cause, f.rows)
        for f in from_file.failures
    ]
    assert strip == [
        (f.resource_id, f.correlation_id, f.time, f.caller, f.error_code, f.image, f.cause, f.rows)
        for f in from_workspace.failures
    ]
    assert (from_file.rows_returned, from_file.rows_matched, from_file.skipped) == (8, 7, 1)
    assert from_file.deployed == from_workspace.deployed
    assert all(f.last_ingested is None for f in from_file.failures)
    assert read_rows(summarize_raw_rows(raw, since=NOW)).rows_returned == 0


def test_an_export_is_recognised_by_its_columns() -> None:
    assert is_activity_export(export_rows(ACTIVITY_SAMPLE)[0])
    system_log = export_rows(SAMPLES / "containerapp-system-logs.json")[0]
    assert not is_activity_export(system_log)


# --- the query text ---------------------------------------------------------------------------


def test_the_query_passes_the_kusto_language_service(kusto: KustoChecker) -> None:
    queries = [
        build_activity_query(watermark=None, now=NOW, lookback=LOOKBACK),
        build_activity_query(watermark=WATERMARK, now=NOW, lookback=LOOKBACK),
        correlation_query(_failure()),
    ]
    for result in kusto.check(queries):
        assert result["ok"], result["diagnostics"]
        assert result["diagnostics"] == []


@pytest.mark.parametrize(
    ("column", "typo"),
    [
        ("CorrelationId", "CorelationId"),
        ("_ResourceId", "_ResourceID"),
        ("ActivitySubstatusValue", "ActivitySubStatusValue"),
        ("Properties_d", "Properties_D"),
        ("OperationNameValue", "OperationNameValu"),
    ],
)
def test_the_check_fails_on_a_misspelled_column(
    kusto: KustoChecker, column: str, typo: str
) -> None:
    query = build_activity_query(watermark=WATERMARK, now=NOW, lookback=LOOKBACK)
    assert column in query
    [result] = kusto.check([query.replace(column, typo, 1)])
    assert not result["ok"]
    assert any(d["text"] == typo for d in result["diagnostics"]), result


def test_the_schema_declares_the_columns_the_issue_names() -> None:
    columns = json.loads(SCHEMAS.read_text())["tables"][ACTIVITY_TABLE]
    named = [
        "TimeGenerated",
        "OperationNameValue",
        "ActivityStatusValue",
        "ActivitySubstatusValue",
        "Caller",
        "CorrelationId",
        "ResourceId",
        "_ResourceId",
        "SubscriptionId",
        "ResourceGroup",
        "Properties",
        "Properties_d",
        "Level",
        "Category",
    ]
    assert set(named) <= set(columns)
    assert columns["Properties_d"] == "dynamic" and columns["TimeGenerated"] == "datetime"


def test_watermark_lookback_and_filter_terms() -> None:
    first = build_activity_query(watermark=None, now=NOW, lookback=LOOKBACK)
    assert "let since = datetime(2026-11-29T08:00:00.000000Z);" in first
    assert "ingestion_time() >" not in first
    later = build_activity_query(watermark=WATERMARK, now=NOW, lookback=LOOKBACK)
    assert "let since = datetime(2026-11-29T07:39:00.000000Z);" in later
    assert "| where ingestion_time() > since" in later
    for value in (*OPERATIONS, *FAILED_STATUSES, *SUCCEEDED_STATUSES):
        assert kql_string(value) in later
    assert "in~ (" in later  # the table's values vary in case


# --- reading Properties_d ---------------------------------------------------------------------

MI_MESSAGE = (
    "Failed to provision revision for container app 'ca-gsd-web-npd'. Error details: The "
    "following field(s) are either invalid or missing. Field 'template.containers.gsd-web.image' "
    'is invalid with details: \'Invalid value: "acrappnpd.azurecr.io/admin.ui:latest": unable '
    "to pull image using Managed identity /subscriptions/6b2fd84b-7b72-4e54-a403-9303ecb51c00/"
    "resourceGroups/rg-gsd-npd/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
    "id-gsd-web-npd for registry acrappnpd.azurecr.io';.."
)


def status(error: Mapping[str, Any], **wrapper: Any) -> str:
    return json.dumps({**wrapper, "error": error})


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        pytest.param(
            {"statusCode": "BadRequest", "statusMessage": status({"code": "E", "message": "m"})},
            [ArmError("E", "m")],
            id="dict-with-json-status",
        ),
        pytest.param(
            json.dumps({"statusMessage": status({"code": "E", "message": "m"})}),
            [ArmError("E", "m")],
            id="json-text",
        ),
        pytest.param(
            {"statusMessage": {"error": {"code": "E", "message": "m"}}},
            [ArmError("E", "m")],
            id="status-already-parsed",
        ),
        pytest.param(
            {
                "statusMessage": status(
                    {
                        "code": "ResourceDeploymentFailure",
                        "message": "outer",
                        "details": [{"code": "ContainerAppOperationError", "message": "inner"}],
                    },
                    status="Failed",
                )
            },
            [
                ArmError("ResourceDeploymentFailure", "outer"),
                ArmError("ContainerAppOperationError", "inner"),
            ],
            id="status-failed-with-nested-details",
        ),
        pytest.param(
            {"statusCode": "Conflict", "statusMessage": "Operation expired."},
            [ArmError("Conflict", "Operation expired.")],
            id="plain-text-status",
        ),
    ],
)
def test_errors_are_read_from_every_shape(properties: Any, expected: list[ArmError]) -> None:
    assert arm_errors(properties) == expected


@pytest.mark.parametrize(
    ("properties", "why"),
    [
        pytest.param(None, "no properties", id="missing"),
        pytest.param("", "no properties", id="empty"),
        pytest.param("{not json", "not JSON", id="not-json"),
        pytest.param("[1, 2]", "not a JSON object", id="not-an-object"),
        pytest.param({"statusCode": "BadRequest"}, "no statusMessage", id="no-status-message"),
        pytest.param({"statusMessage": "{broken"}, "statusMessage is not JSON", id="bad-status"),
        pytest.param({"statusMessage": json.dumps({"error": {}})}, "no error", id="no-message"),
        pytest.param(
            json.dumps({"statusMessage": "x" * MAX_PROPERTIES_CHARS}), "characters", id="huge"
        ),
    ],
)
def test_unreadable_properties_say_why(properties: Any, why: str) -> None:
    with pytest.raises(UnreadableProperties, match=why):
        arm_errors(properties)


def test_deeply_nested_details_are_bounded() -> None:
    error: dict[str, Any] = {"code": "Leaf", "message": "leaf"}
    for depth in range(200):
        error = {"code": f"L{depth}", "message": f"level {depth}", "details": [error]}
    found = arm_errors({"statusMessage": json.dumps({"error": error})})
    assert 0 < len(found) <= 64


# --- which failures are about the image (real ARM messages) -----------------------------------

# (id, code, message, expected cause or None when kept out, expected image); sources in
# samples/README.md ("ARM error messages").
ARM_MESSAGES = [
    ("managed-identity-aca-1061", "ContainerAppOperationError", MI_MESSAGE,
     Cause.REGISTRY_UNAUTHORIZED, "acrappnpd.azurecr.io/admin.ui:latest"),
    ("404-seed-guide", "InvalidParameterValueInContainerTemplate",
     "The following field(s) are either invalid or missing. Field 'template.containers.app.image' "
     "is invalid with details: 'Invalid value: \"somehost.com/someimage:tag\": GET https:: "
     "unexpected status code 404 Not Found: ';.",
     Cause.IMAGE_NOT_FOUND, "somehost.com/someimage:tag"),
    ("manifest-unknown-packt-81", "InvalidParameterValueInContainerTemplate",
     "The following field(s) are either invalid or missing. Field 'template.containers.sqlcreate.image' "
     "is invalid with details: 'Invalid value: \"acr5z65jw6akztww.azurecr.io/azd-deploy-sqlcreate-1710538869\": "
     "GET https:: MANIFEST_UNKNOWN: manifest tagged by \"latest\" is not found; map[Tag:latest]';.",
     Cause.IMAGE_NOT_FOUND, "acr5z65jw6akztww.azurecr.io/azd-deploy-sqlcreate-1710538869"),
    ("unauthorized-deploy-action-85", "InvalidParameterValueInContainerTemplate",
     "The following field(s) are either invalid or missing. Field 'template.containers.server.image' "
     "is invalid with details: 'Invalid value: \"ourregistry.azurecr.io/our-server:32931cfe\": GET "
     "https:?scope=repository%3Aour-server%3Apull&service=ourregistry.azurecr.io: UNAUTHORIZED: "
     "authentication required, visit https://aka.ms/acr/authorization for more information.';.",
     Cause.REGISTRY_UNAUTHORIZED, "ourregistry.azurecr.io/our-server:32931cfe"),
    ("dns-get-started-ai-chat-64", "ContainerAppOperationError",
     "Failed to provision revision for container app 'ca-api-i5vjdm7dauiow'. Error details: The "
     "following field(s) are either invalid or missing. Field 'template.containers.main.image' is "
     "invalid with details: 'Invalid value: \"azdtemplate.azurecr.io/get-start-with-ai-chat:latest\": "
     "Get \"https://azdtemplate.azurecr.io/v2/\": dial tcp: lookup azdtemplate.azurecr.io on "
     "100.100.224.10:53: no such host';..",
     Cause.DNS_FAILURE, "azdtemplate.azurecr.io/get-start-with-ai-chat:latest"),
    ("eof-vnet-aca-892", "InvalidParameterValueInContainerTemplate",
     "The following field(s) are either invalid or missing. Field "
     "'template.containers.simple-hello-world-container.image' is invalid with details: 'Invalid "
     "value: \"mcr.microsoft.com/k8se/quickstart:latest\": Get \"https://mcr.microsoft.com/v2/\": EOF';.",
     Cause.CONNECTION_FAILED, "mcr.microsoft.com/k8se/quickstart:latest"),
    ("older-wording-webhook-reddog-13", "WebhookInvalidParameterValue",
     "The following field(s) are either invalid or missing. Invalid value: "
     "\"acrreddog0f3d8b.azurecr.io/reddog/order-service:latest\": GET https:: MANIFEST_UNKNOWN: "
     "manifest tagged by \"latest\" is not found; map[Tag:latest]: template.containers.order-service.image.",
     Cause.IMAGE_NOT_FOUND, "acrreddog0f3d8b.azurecr.io/reddog/order-service:latest"),
    ("image-required-store-api-27", "ContainerAppImageRequired",
     "Container with name 'python-app' must have an 'Image' property specified.",
     Cause.UNKNOWN, None),
    ("internal-server-error-aca-685", "InternalServerError",
     "Internal server error occurred. correlation ID: f072ee7e-8260-43c9-b03b-91013438c060",
     None, None),
    ("invalid-schema-aca-436", "ContainerAppInvalidSchema",
     "Invalid request body for container app. Does not conform to Container App schema, please "
     "visit for more information https://docs.microsoft.com/azure/container-apps/"
     "azure-resource-manager-api-spec?tabs=arm-template#container-app",
     None, None),
    ("environment-id-aca-194", "InvalidManagedEnvironmentId",
     "Invalid ManagedEnvironmentId value ''.", None, None),
    ("operation-expired-aca-670", "ContainerAppOperationError",
     "Failed to provision revision for container app 'redis'. Error details: Operation expired.",
     None, None),
]  # fmt: skip


def answer_row(code: str, message: str, **extra: Any) -> dict[str, Any]:
    properties = {
        "statusCode": "BadRequest",
        "statusMessage": status({"code": code, "message": message}),
    }
    row: dict[str, Any] = {
        "ResourceId": SHIPPING,
        "CorrelationId": "c0ffee00-0000-4000-8000-000000000001",
        "Rows": 1,
        "FirstSeen": "2026-11-29T08:20:09.8810000Z",
        "LastSeen": "2026-11-29T08:20:09.8810000Z",
        "LastIngested": "2026-11-29T08:25:09.8810000Z",
        "Operation": "MICROSOFT.APP/CONTAINERAPPS/WRITE",
        "Caller": "dana.fischer@contoso.com",
        "Status": "Failure",
        "Substatus": "BadRequest",
        "SubscriptionId": SUB,
        "ResourceGroup": "rg-shop-prod",
        "Properties": json.dumps(properties),
    }
    row.update(extra)
    return row


@pytest.mark.parametrize(
    ("code", "message", "cause", "image"),
    [pytest.param(*case[1:], id=case[0]) for case in ARM_MESSAGES],
)
def test_only_failures_about_the_image_are_kept(
    code: str, message: str, cause: Cause | None, image: str | None
) -> None:
    reading = read_rows([answer_row(code, message)])
    if cause is None:
        assert (reading.failures, reading.not_image) == ((), 1)
        return
    [failure] = reading.failures
    assert (failure.cause, failure.image, failure.error_code) == (cause, image, code)
    assert failure.error_message == message


def test_bad_rows_are_skipped_counted_and_logged_at_debug_without_content(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret_looking = "{not json " + "token=abc123"
    rows = [
        answer_row("E", MI_MESSAGE, Properties=None),
        answer_row("E", MI_MESSAGE, Properties=secret_looking),
        answer_row("E", MI_MESSAGE, Properties="x" * (MAX_PROPERTIES_CHARS + 1)),
        answer_row("E", MI_MESSAGE, ResourceId="/subscriptions/x/resourceGroups/y"),
        answer_row("E", MI_MESSAGE, FirstSeen="not a time"),
        answer_row("E", MI_MESSAGE, Rows="many", LastIngested="never"),
        answer_row("InvalidParameterValueInContainerTemplate", MI_MESSAGE),
    ]
    with caplog.at_level(logging.DEBUG, logger="pullwatch.fetch.activity"):
        reading = read_rows(rows)
    assert (len(reading.failures), reading.skipped, reading.rows_returned) == (2, 5, 7)
    assert reading.rows_matched == 7
    skipped = [r for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 5 and all(r.levelno == logging.DEBUG for r in skipped)
    assert "abc123" not in caplog.text and "not JSON" in caplog.text


def test_an_upper_case_resource_id_and_a_job_are_read() -> None:
    job_id = NIGHTLY.upper()
    [failure] = read_rows([answer_row("E", MI_MESSAGE, ResourceId=job_id)]).failures
    assert (failure.resource_id, failure.kind, failure.name) == (
        NIGHTLY,
        DeploymentKind.JOB,
        "nightly-reports",
    )
    assert (
        failure.key
        == "deployment/rg-shop-prod/job:nightly-reports/acrappnpd.azurecr.io/admin.ui:latest"
    )


def test_the_message_about_the_image_wins_over_its_wrapper() -> None:
    properties = {
        "statusMessage": status(
            {
                "code": "DeploymentFailed",
                "message": "At least one resource deployment operation failed.",
                "details": [
                    {"code": "Conflict", "message": "Internal server error occurred."},
                    {"code": "ContainerAppOperationError", "message": MI_MESSAGE},
                ],
            }
        )
    }
    [failure] = read_rows([answer_row("E", "x", Properties=json.dumps(properties))]).failures
    assert failure.error_code == "ContainerAppOperationError"
    assert failure.cause == Cause.REGISTRY_UNAUTHORIZED.value


def test_long_messages_are_cut() -> None:
    message = MI_MESSAGE + " " + "detail " * 1000
    [failure] = read_rows([answer_row("E", message)]).failures
    assert len(failure.error_message) == 2000


def _failure() -> DeploymentFailure:
    [failure] = read_rows(
        [answer_row("InvalidParameterValueInContainerTemplate", MI_MESSAGE)]
    ).failures
    return failure


def test_the_correlation_query_finds_the_deployment_rows(log_analytics: FakeLogAnalytics) -> None:
    log_analytics.load_export(ACTIVITY_SAMPLE)
    rows = fetch(log_analytics, build_activity_query(watermark=None, now=NOW, lookback=LOOKBACK))
    catalog = by_resource(read_rows(rows).failures)[CATALOG]
    shown = fetch(log_analytics, correlation_query(catalog))
    assert [r["OperationNameValue"] for r in shown] == [
        "MICROSOFT.RESOURCES/DEPLOYMENTS/WRITE",
        "MICROSOFT.APP/CONTAINERAPPS/WRITE",
        "MICROSOFT.APP/CONTAINERAPPS/WRITE",
        "MICROSOFT.APP/CONTAINERAPPS/WRITE",
        "MICROSOFT.RESOURCES/DEPLOYMENTS/WRITE",
    ]
