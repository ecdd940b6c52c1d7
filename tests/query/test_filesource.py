"""FileSource: both JSON shapes, both table flavours, the query's window, and the samples
(every other format: ``test_exports.py``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from classifiers import Cause
from pullwatch.decide.observe import observe
from pullwatch.fetch.filesource import ExportError, FileSource
from pullwatch.fetch.records import Signal
from tests.query.conftest import LEGACY_SAMPLE, RESOURCE_SAMPLE

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
PLAIN = {"EnvironmentName": "env", "ContainerAppName": "app", "RevisionName": "app--0000001"}
SUFFIXED = {
    "EnvironmentName_s": "env",
    "ContainerAppName_s": "app",
    "RevisionName_s": "app--0000001",
}
FAIL = 'Failed to pull image "acr.azurecr.io/app:1": manifest unknown'
LOGGED = {"Log_s": FAIL, "Reason_s": "Failed"}


def write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def rest(rows: list[dict[str, Any]]) -> dict[str, Any]:
    names = list(rows[0])
    return {
        "tables": [
            {
                "name": "PrimaryResult",
                "columns": [{"name": n, "type": "string"} for n in names],
                "rows": [[row[n] for n in names] for row in rows],
            }
        ]
    }


@pytest.mark.parametrize("shape", ["az-list", "rest"])
@pytest.mark.parametrize("flavour", ["plain", "suffixed"])
def test_reads_both_shapes_and_both_flavours(tmp_path: Path, shape: str, flavour: str) -> None:
    base = PLAIN if flavour == "plain" else SUFFIXED
    log, reason = ("Log", "Reason") if flavour == "plain" else ("Log_s", "Reason_s")
    rows = [
        {**base, "TimeGenerated": "2026-11-29T08:30:00.1234567Z", log: FAIL, reason: "Failed"},
        {**base, "TimeGenerated": "2026-11-29T08:31:00Z", log: FAIL, reason: "Failed"},
        {
            **base,
            "TimeGenerated": "2026-11-29T08:32:00Z",
            log: "Revision ready",
            reason: "RevisionReady",
        },
    ]
    path = write(tmp_path, rows if shape == "az-list" else rest(rows))
    result = FileSource(path, HOUR).fetch(now=NOW)
    [group] = result.groups
    assert (group.environment, group.app, group.revision) == ("env", "app", "app--0000001")
    assert group.signal is Signal.FAILURE and group.reason == "Failed"
    assert group.count == 2 and group.samples == (FAIL,)
    assert group.first_seen == datetime(2026, 11, 29, 8, 30, 0, 123456, tzinfo=UTC)
    assert group.last_ingested is None
    assert result.max_ingested is None and result.rows_matched == 2


def test_window_is_the_lookback_before_now_or_before_the_watermark(tmp_path: Path) -> None:
    rows = [
        {**SUFFIXED, "TimeGenerated": t, "Log_s": FAIL, "Reason_s": "Failed"}
        for t in ("2026-11-29T07:59:59Z", "2026-11-29T08:00:00Z", "2026-11-29T08:00:01Z")
    ]
    source = FileSource(write(tmp_path, rows), HOUR)
    assert source.fetch(now=NOW).rows_matched == 1  # strictly after now - 1h
    earlier = source.fetch(watermarks={"*": datetime(2026, 11, 29, 8, 30, tzinfo=UTC)}, now=NOW)
    assert earlier.rows_matched == 3  # watermark - lookback = 07:30


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ({"rows": []}, 'a JSON object without "tables"'),
        ([1, 2], "not a row object"),
        ([{**SUFFIXED, "Log_s": FAIL}], "missing columns: time"),
        ([{**SUFFIXED, **LOGGED, "TimeGenerated": "yesterday"}], "row 1: 'yesterday' is not"),
        ([{**SUFFIXED, **LOGGED, "TimeGenerated": ""}], "row 1: a row has no TimeGenerated"),
    ],
)
def test_unreadable_exports_raise_export_error(tmp_path: Path, document: Any, words: str) -> None:
    with pytest.raises(ExportError, match=words):
        FileSource(write(tmp_path, document), HOUR).fetch(now=NOW)


def test_missing_and_non_json_files(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="cannot read"):
        list(FileSource(tmp_path / "nope.json", HOUR).rows())
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(ExportError, match="cut off"):
        list(FileSource(bad, HOUR).rows())


def sample_observations() -> dict[str, Any]:
    groups = []
    for path in (LEGACY_SAMPLE, RESOURCE_SAMPLE):
        groups.extend(FileSource(path, HOUR).fetch(now=NOW).groups)
    return {o.revision: o for o in observe(groups)}


def test_samples_cover_every_cause() -> None:
    observations = sample_observations()
    causes = {o.diagnosis.cause for o in observations.values() if o.failing and o.diagnosis}
    assert causes == set(Cause)


def test_samples_have_the_promised_cases() -> None:
    observations = sample_observations()
    # a bare "Persistent Image Pull Errors" line borrows the detailed line's cause
    shipping = observations["shipping--0000031"]
    assert any("Persistent Image Pull Errors" in s for s in shipping.samples)
    assert shipping.diagnosis and shipping.diagnosis.cause is Cause.REGISTRY_UNAUTHORIZED
    # only bare lines: unknown
    bare = observations["legacy-batch--0000003"]
    assert bare.diagnosis and bare.diagnosis.cause is Cause.UNKNOWN
    # recovery: success after the last failure
    checkout = observations["checkout--0000021"]
    assert checkout.last_success and checkout.last_failure
    assert checkout.last_success > checkout.last_failure
    # firewall denial despite "not found" words
    inventory = observations["inventory--g72o3de"]
    assert inventory.diagnosis and inventory.diagnosis.cause is Cause.REGISTRY_FIREWALL
    assert inventory.reasons == ("ContainerTerminated",)
    assert "ImagePullUnauthorized" in observations["payments-api--0000012"].reasons
    # crash loops and healthy revisions are not failing
    assert not observations["billing-worker--0000016"].failing
    assert not observations["web-frontend--0000042"].failing
    assert len({o.environment for o in observations.values()}) == 4


def test_samples_have_duplicates_and_noise() -> None:
    for path in (LEGACY_SAMPLE, RESOURCE_SAMPLE):
        rows = list(FileSource(path, HOUR).rows())
        assert len(rows) > len(set(rows))  # identical rows delivered more than once
        reasons = {r.reason for r in rows}
        assert {"RevisionReady", "ContainerCreated", "KEDAScalersStarted", "BackOff"} <= reasons
        assert any("Back-off restarting failed container" in r.log for r in rows)
        times = [r.time_generated for r in rows]
        assert min(times) >= NOW - HOUR and max(times) <= NOW
        assert all("--" in r.revision for r in rows)
