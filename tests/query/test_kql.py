"""The generated KQL, in every table mode, passes Microsoft's Kusto language service."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from classifiers.signals import (
    BACKOFF_LOG_TERMS,
    FAILURE_LOG_TERMS,
    FAILURE_REASONS,
    PULLING_LOG_TERMS,
    PULLING_REASONS,
    SUCCESS_REASONS,
)
from pullwatch.fetch.kql import kql_string
from pullwatch.fetch.logquery import build_query
from pullwatch.settings import TableMode
from tests.query.conftest import SCHEMAS, KustoChecker

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
WATERMARK = datetime(2026, 11, 29, 8, 55, 12, 345678, tzinfo=UTC)
LOOKBACK = timedelta(minutes=60)
CASES = [
    pytest.param(mode, watermark, id=f"{mode.value}-{'watermark' if watermark else 'first'}")
    for mode in TableMode
    for watermark in (None, WATERMARK)
]


@pytest.mark.parametrize(("mode", "watermark"), CASES)
def test_query_has_no_errors_against_the_declared_schemas(
    kusto: KustoChecker, mode: TableMode, watermark: datetime | None
) -> None:
    query = build_query(mode, watermark=watermark, now=NOW, lookback=LOOKBACK)
    [result] = kusto.check([query])
    assert result["ok"], result["diagnostics"]
    assert result["diagnostics"] == []


def test_auto_mode_with_only_one_table_is_a_warning_not_an_error(kusto: KustoChecker) -> None:
    schema = json.loads(SCHEMAS.read_text())
    del schema["tables"]["ContainerAppSystemLogs"]
    query = build_query(TableMode.AUTO, watermark=WATERMARK, now=NOW, lookback=LOOKBACK)
    [result] = kusto.check([query], schema)
    assert result["ok"]
    assert [d["severity"] for d in result["diagnostics"]] == ["Warning"]
    assert "ContainerAppSystemLogs" in result["diagnostics"][0]["text"]


@pytest.mark.parametrize(
    ("column", "typo"),
    [
        ("= ReplicaName_s,", "ReplicaNam_s"),
        ("= RevisionName,", "RevisionNme"),
        ("= _ResourceId)", "_ResourceID"),
    ],
)
def test_the_check_fails_on_a_misspelled_column(
    kusto: KustoChecker, column: str, typo: str
) -> None:
    query = build_query(TableMode.AUTO, watermark=WATERMARK, now=NOW, lookback=LOOKBACK)
    assert column in query
    misspelled = query.replace(column, column[:2] + typo + column[-1], 1)
    [result] = kusto.check([misspelled])
    assert not result["ok"]
    errors = [d for d in result["diagnostics"] if d["severity"] == "Error"]
    assert any(d["text"] == typo for d in errors), errors


def test_the_filter_is_generated_from_the_classifier_terms() -> None:
    query = build_query(TableMode.AUTO, now=NOW, lookback=LOOKBACK)
    for term in (*FAILURE_LOG_TERMS, *BACKOFF_LOG_TERMS, *PULLING_LOG_TERMS):
        assert f"Log contains {kql_string(term)}" in query
    for reason in (*FAILURE_REASONS, *SUCCESS_REASONS, *PULLING_REASONS):
        assert kql_string(reason) in query


def test_watermark_and_lookback_filters() -> None:
    incremental = build_query(TableMode.AUTO, watermark=WATERMARK, now=NOW, lookback=LOOKBACK)
    # the overlap: both the ingestion time and TimeGenerated are read from the watermark minus
    # the lookback, so rows ingested late (at or before the watermark) are read again
    assert "let since = datetime(2026-11-29T07:55:12.345678Z);" in incremental
    assert incremental.count("| where ingestion_time() > since") == 2
    assert incremental.count("| where TimeGenerated > since") == 2
    first = build_query(TableMode.LEGACY, now=NOW, lookback=LOOKBACK)
    assert "let since = datetime(2026-11-29T08:00:00.000000Z);" in first
    assert "ingestion_time() >" not in first
    assert "union isfuzzy" not in first


def test_strings_are_escaped() -> None:
    assert kql_string('say "hi" \\ bye') == '"say \\"hi\\" \\\\ bye"'
