"""What counts as failing and as recovered (issue 13), tick by tick with real parts: exports read
by the real ``FileSource`` (or the fake Log Analytics endpoint with the real client), the real
``FileStore`` ledger, and a recording channel.

The rows are shaped like Container Apps' system logs of the resource-specific table (and the
legacy ``_CL`` one): a kubelet pulls, fails, backs off and retries; a sidecar is pulled and
started next to the app's container."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pullwatch.commands.ledger import render_ledger
from pullwatch.decide import Policy
from pullwatch.errors import QueryError
from pullwatch.fetch.filesource import FileSource
from pullwatch.fetch.records import FailureSource
from pullwatch.ledger import EntryState, Ledger
from pullwatch.ledger.stores import FileStore
from pullwatch.settings import TableMode
from pullwatch.tick.pipeline import TickSummary, run_tick
from tests.fakes.loganalytics import FakeLogAnalytics
from tests.pipeline.doubles import RecordingNotifier

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
ENV = "cae-shop-prod"
MAIN = "acrshop.azurecr.io/orders:2.0"
SIDECAR = "mcr.microsoft.com/daprio/daprd:1.14.4"
NOT_FOUND = (
    f'Failed to pull image "{MAIN}": rpc error: code = NotFound desc = failed to pull and unpack '
    f'image "{MAIN}": failed to resolve reference "{MAIN}": {MAIN}: not found'
)
TIMEOUT = (
    'Failed to pull image "acrshop.azurecr.io/web:3": rpc error: code = Unknown desc = failed to '
    'pull and unpack image "acrshop.azurecr.io/web:3": failed to resolve reference '
    '"acrshop.azurecr.io/web:3": failed to do request: Head '
    '"https://acrshop.azurecr.io/v2/web/manifests/3": dial tcp 20.50.2.3:443: i/o timeout'
)
POLICY = Policy()  # quiet 30m, grace 10m or 3 attempts, reminders every 4h


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def row(
    minute: float,
    log: str,
    reason: str,
    *,
    app: str = "orders",
    revision: str = "orders--0000009",
    container: str = "",
    replica: str = "orders--0000009-7f9c8d6b5-q2x4z",
    environment: str = ENV,
) -> dict[str, Any]:
    """One row of ContainerAppSystemLogs (the resource-specific table)."""
    return {
        "TimeGenerated": at(minute).isoformat().replace("+00:00", "Z"),
        "EnvironmentName": environment,
        "ContainerAppName": app,
        "RevisionName": revision,
        "ReplicaName": replica,
        "ContainerName": container,
        "Reason": reason,
        "Log": log,
        "Type": "Warning" if reason in ("Failed", "BackOff") else "Normal",
        "EventSource": "ContainerAppController",
        "Count": 1,
        "_ResourceId": "",
    }


def legacy(record: dict[str, Any]) -> dict[str, Any]:
    """The same row in ContainerAppSystemLogs_CL (suffixed columns, no ContainerName)."""
    return {
        "TimeGenerated": record["TimeGenerated"],
        "EnvironmentName_s": record["EnvironmentName"],
        "ContainerAppName_s": record["ContainerAppName"],
        "RevisionName_s": record["RevisionName"],
        "ReplicaName_s": record["ReplicaName"],
        "Reason_s": record["Reason"],
        "Log_s": record["Log"],
        "Type_s": record["Type"],
        "Count_d": "1",
    }


def main_attempt(minute: float) -> list[dict[str, Any]]:
    """One failed pull of the app's image and the kubelet's lines around it."""
    return [
        row(minute, f"Pulling image '{MAIN}'", "PullingImage", container="orders"),
        row(minute, NOT_FOUND, "Failed", container="orders"),
        row(minute, "Error: ErrImagePull", "Failed", container="orders"),
        row(minute + 0.5, f'Back-off pulling image "{MAIN}"', "BackOff", container="orders"),
        row(minute + 0.5, "Error: ImagePullBackOff", "Failed", container="orders"),
    ]


def sidecar_start(minute: float) -> list[dict[str, Any]]:
    """The Dapr sidecar pulled and started (again)."""
    return [
        row(minute, f"Pulling image '{SIDECAR}'", "PullingImage", container="daprd"),
        row(
            minute,
            f"Successfully pulled image '{SIDECAR}' in 1.2s (1.2s including waiting)",
            "PulledImage",
            container="daprd",
        ),
        row(minute, "Created container 'daprd'", "ContainerCreated", container="daprd"),
        row(minute, "Started container 'daprd'", "ContainerStarted", container="daprd"),
    ]


def main_recovers(minute: float) -> list[dict[str, Any]]:
    return [
        row(minute, f"Pulling image '{MAIN}'", "PullingImage", container="orders"),
        row(
            minute,
            f"Successfully pulled image '{MAIN}' in 3.4s (3.4s including waiting)",
            "PulledImage",
            container="orders",
        ),
        row(minute, "Started container 'orders'", "ContainerStarted", container="orders"),
    ]


def heartbeat(minutes: Iterable[float]) -> list[dict[str, Any]]:
    """Other apps of the environment logging (evidence that its logs flow)."""
    return [
        row(m, "Revision ready", "RevisionReady", app="cart", revision="cart--0000002")
        for m in minutes
    ]


class World:
    """Ticks over an export file (rewritten at will) with a file ledger and one channel."""

    def __init__(self, tmp_path: Path, *, flavour: str = "resource") -> None:
        self.export = tmp_path / "export.json"
        self.flavour = flavour
        self.store = FileStore(tmp_path / "ledger.json")
        self.chat = RecordingNotifier("teams-1")
        self.write([])

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        shaped = [legacy(r) for r in rows] if self.flavour == "legacy" else list(rows)
        self.export.write_text(json.dumps(shaped), encoding="utf-8")

    def tick(self, minute: float, source: FailureSource | None = None) -> TickSummary:
        return run_tick(
            source=source or FileSource(self.export, timedelta(minutes=60)),
            store=self.store,
            notifiers=[self.chat],
            policy=POLICY,
            now=at(minute),
        )

    def told(self) -> list[tuple[str, str]]:
        return [(a.revision, a.kind.value) for a in self.chat.alerts]

    @property
    def ledger(self) -> Ledger:
        return self.store.load()[0]


# --- sidecars: per-image recovery ------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["resource", "legacy"])
def test_a_sidecar_starting_again_and_again_never_resolves_the_apps_image(
    tmp_path: Path, flavour: str
) -> None:
    world = World(tmp_path, flavour=flavour)
    rows: list[dict[str, Any]] = []
    for minute in range(0, 42, 2):  # the sidecar crash-loops next to the failing container
        rows += sidecar_start(minute)
    for minute in (0, 1, 3, 6, 11, 16, 21, 26, 31, 36):  # the kubelet's back-off schedule
        rows += main_attempt(minute)
    rows += main_recovers(42)
    rows += heartbeat(range(0, 90, 5))
    world.write(rows)
    timeline = {}
    for minute in range(5, 50, 5):
        world.tick(minute)
        timeline[minute] = list(world.told())
    assert timeline[5] == [("orders--0000009", "firing")]
    assert timeline[40] == [("orders--0000009", "firing")]  # no false "resolved" on the way
    assert timeline[45] == [("orders--0000009", "firing"), ("orders--0000009", "resolved")]
    [resolved] = [a for a in world.chat.alerts if a.kind.value == "resolved"]
    assert MAIN in (resolved.resolution or "")
    [firing] = [a for a in world.chat.alerts if a.kind.value == "firing"]
    assert firing.image == MAIN and firing.cause == "image-not-found"


def test_a_sidecar_started_after_the_alert_is_no_recovery(tmp_path: Path) -> None:
    world = World(tmp_path)
    rows = [r for m in (0, 1, 3, 6, 11, 16) for r in main_attempt(m)] + heartbeat(range(0, 90, 5))
    world.write(rows)
    world.tick(5)
    assert world.told() == [("orders--0000009", "firing")]
    world.write(rows + sidecar_start(12) + sidecar_start(14))
    world.tick(15)
    world.tick(20)
    assert world.told() == [("orders--0000009", "firing")]
    entry = world.ledger.entries[f"{ENV}/orders/orders--0000009"]
    assert entry.state is EntryState.FIRING
    states = {image.image: image for image in entry.images}
    assert states[MAIN].failing and not states[SIDECAR].failed
    world.write(rows + sidecar_start(12) + main_recovers(22))
    world.tick(25)
    assert world.told() == [("orders--0000009", "firing"), ("orders--0000009", "resolved")]


def test_an_image_less_failure_line_takes_the_image_the_revision_pulls(tmp_path: Path) -> None:
    """Container Apps' own "Container pull image failed with unauthorized error." names no
    image: the revision's "Pulling image '...'" line does."""
    world = World(tmp_path, flavour="legacy")
    rows = [row(m, f"Pulling image '{MAIN}'", "PullingImage") for m in (0, 4)] + [
        row(m, "Container pull image failed with unauthorized error.", "ImagePullUnauthorized")
        for m in (0.2, 4.2)
    ]
    world.write(rows + heartbeat(range(0, 10, 5)))
    world.tick(5)
    [alert] = world.chat.alerts
    assert alert.image == MAIN and ("Image", MAIN) in alert.facts
    assert ("Registry", "acrshop.azurecr.io") in alert.facts


# --- each row counted once --------------------------------------------------------------------


def test_the_same_export_in_four_ticks_counts_each_attempt_once(tmp_path: Path) -> None:
    world = World(tmp_path)
    duplicate = main_attempt(0)[1]  # Log Analytics returns some rows twice
    rows = [r for m in (0, 1, 3, 6) for r in main_attempt(m)] + [duplicate]
    world.write(rows + heartbeat(range(0, 10, 5)))
    counts = []
    for minute in (7, 8, 9, 10):
        world.tick(minute)
        counts.append(world.ledger.entries[f"{ENV}/orders/orders--0000009"].count)
    assert counts == [4, 4, 4, 4]  # four pull attempts; back-offs and duplicates count none
    [alert] = world.chat.alerts
    assert alert.count == 4


def test_a_failed_pull_with_its_back_off_lines_is_one_attempt(tmp_path: Path) -> None:
    world = World(tmp_path)
    rows = main_attempt(0) + [
        row(m, f'Back-off pulling image "{MAIN}"', "BackOff", container="orders")
        for m in (1, 2, 3, 4)
    ]
    world.write(rows + heartbeat([5]))
    world.tick(5)
    assert world.ledger.entries[f"{ENV}/orders/orders--0000009"].count == 1


def test_one_timeout_row_read_in_four_ticks_never_fires(tmp_path: Path) -> None:
    world = World(tmp_path)
    rows = [
        row(0, TIMEOUT, "Failed", app="web", revision="web--0000003", replica="web--0000003-a-b"),
        row(0, "Error: ErrImagePull", "Failed", app="web", revision="web--0000003"),
        *[
            row(m, "Error: ImagePullBackOff", "Failed", app="web", revision="web--0000003")
            for m in (1, 2, 3)
        ],
    ]
    world.write(rows + heartbeat(range(0, 60, 5)))
    for minute in (4, 5, 6, 7):
        summary = world.tick(minute)
        assert summary.decisions["debounced"] == 1
    assert world.told() == []
    entry = world.ledger.entries[f"{ENV}/web/web--0000003"]
    assert entry.count == 1 and entry.state is EntryState.DEBOUNCING


# --- no data is no fix --------------------------------------------------------------------------


def test_an_empty_export_after_firing_resolves_nothing(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.write([r for m in (0, 1, 3) for r in main_attempt(m)] + heartbeat([0, 4]))
    world.tick(5)
    world.write([])  # a daily cap, a broken diagnostic setting: no rows at all
    summary = world.tick(45)
    world.tick(90)
    assert world.told() == [("orders--0000009", "firing")]
    assert world.ledger.entries[f"{ENV}/orders/orders--0000009"].state is EntryState.FIRING
    assert ENV in summary.no_logs and "no logs from cae-shop-prod" in summary.line()
    shown = render_ledger(world.ledger, at(90))
    assert f"{ENV}  2026-11-29 08:04:00Z  ContainerAppSystemLogs  no logs since" in shown
    assert f"image {MAIN} (container orders): failing (image-not-found), 3 pull attempts" in shown


def test_other_healthy_rows_of_the_environment_let_it_resolve_after_the_quiet_period(
    tmp_path: Path,
) -> None:
    world = World(tmp_path)
    failures = [r for m in (0, 1, 3) for r in main_attempt(m)]
    world.write(failures + heartbeat([0]))
    world.tick(5)
    world.write(failures + heartbeat(range(0, 30, 5)))  # logs until 08:25: not past 08:33.5
    world.tick(34)
    assert world.told() == [("orders--0000009", "firing")]
    world.write(failures + heartbeat(range(0, 40, 5)))  # now until 08:35
    world.tick(36)
    assert world.told() == [("orders--0000009", "firing"), ("orders--0000009", "resolved")]


# --- gaps do not swallow alerts -----------------------------------------------------------------


def test_a_failure_that_stopped_during_a_gap_is_notified_seen_late_then_resolved(
    tmp_path: Path,
) -> None:
    world = World(tmp_path)
    persistent = [r for m in range(0, 9) for r in main_attempt(m)[1:2]]  # 9 rows, 08:00-08:08
    transient = [
        row(m, TIMEOUT, "Failed", app="web", revision="web--0000003") for m in (2, 4)
    ]  # two timeouts, then the pulls worked: within the grace
    world.write(persistent + transient + heartbeat(range(0, 50, 5)))
    # no tick from 08:05 to 08:40 (Log Analytics down, ticks killed): the first one is at 08:45
    world.tick(45)
    [alert] = world.chat.alerts
    assert (alert.revision, alert.kind.value) == ("orders--0000009", "firing")
    assert "seen late: failed from 2026-11-29 08:00:00Z to 2026-11-29 08:08:00Z" in alert.reason
    world.tick(50)
    assert world.told() == [("orders--0000009", "firing"), ("orders--0000009", "resolved")]
    world.tick(55)
    assert len(world.told()) == 2


# --- late rows and partial results (the fake Log Analytics endpoint) --------------------------


def resource_rows(rows: Iterable[dict[str, Any]], ingested: datetime) -> list[dict[str, Any]]:
    return [{**r, "_IngestionTime": ingested.isoformat()} for r in rows]


def test_late_rows_are_alerted_once(tmp_path: Path, log_analytics: FakeLogAnalytics) -> None:
    world = World(tmp_path)
    table = TableMode.RESOURCE.value
    log_analytics.load_rows(table, resource_rows(heartbeat([20, 25]), at(27)))
    source = log_analytics.source(TableMode.RESOURCE)
    world.tick(30, source)  # watermark: 08:27
    assert world.ledger.watermark_map() == {log_analytics.workspace_id: at(27)}
    # rows that became queryable only now, stamped with an ingestion time before the watermark
    late = [r for m in (10, 12, 15) for r in main_attempt(m)]
    log_analytics.load_rows(table, resource_rows(late, at(26)))
    world.tick(35, source)
    world.tick(40, source)
    assert world.told() == [("orders--0000009", "firing")]
    assert world.ledger.entries[f"{ENV}/orders/orders--0000009"].count == 3


def test_a_partial_result_read_again_next_tick_adds_nothing(
    tmp_path: Path, log_analytics: FakeLogAnalytics
) -> None:
    world = World(tmp_path)
    rows = [r for m in (0, 1, 3) for r in main_attempt(m)] + heartbeat([0, 4])
    log_analytics.load_rows(TableMode.RESOURCE.value, resource_rows(rows, at(5)))
    source = log_analytics.source(TableMode.RESOURCE)
    log_analytics.partial_next("Query exceeded a limit")
    summary = world.tick(6, source)
    assert summary.partial and not summary.watermark_advanced
    world.tick(7, source)
    world.tick(8, source)
    assert world.told() == [("orders--0000009", "firing")]
    assert world.ledger.entries[f"{ENV}/orders/orders--0000009"].count == 3


# --- workspaces are isolated --------------------------------------------------------------------


def test_a_workspace_answering_403_does_not_hold_up_the_other(
    tmp_path: Path, log_analytics: FakeLogAnalytics
) -> None:
    world = World(tmp_path)
    healthy, broken = log_analytics.workspace_id, "99999999-8888-7777-6666-555555555555"
    table = TableMode.RESOURCE.value
    log_analytics.load_rows(
        table,
        resource_rows([r for m in (0, 1, 3) for r in main_attempt(m)], at(4)),
        workspace=healthy,
    )
    other = [
        row(m, TIMEOUT.replace("web:3", "pay:1").replace("/web/", "/pay/"), "Failed",
            app="pay", revision="pay--0000001", environment="cae-pay-prod")
        for m in range(0, 12)
    ]  # fmt: skip
    log_analytics.load_rows(table, resource_rows(other, at(13)), workspace=broken)
    source = log_analytics.source(TableMode.RESOURCE, workspace_ids=[healthy, broken])
    log_analytics.fail_workspace(broken, 403, times=3)
    summaries = [world.tick(minute, source) for minute in (15, 20, 25)]
    assert world.told() == [("orders--0000009", "firing")]
    assert all(s.workspaces_failed == [broken] for s in summaries)
    assert broken not in world.ledger.watermark_map()
    world.tick(30, source)  # the role is back: its failures are read from where it stopped
    world.tick(35, source)
    assert world.told() == [("orders--0000009", "firing"), ("pay--0000001", "firing")]


def test_when_every_workspace_fails_the_tick_fails(
    tmp_path: Path, log_analytics: FakeLogAnalytics
) -> None:
    world = World(tmp_path)
    other = "99999999-8888-7777-6666-555555555555"
    source = log_analytics.source(
        TableMode.RESOURCE, workspace_ids=[log_analytics.workspace_id, other]
    )
    log_analytics.fail_workspace(log_analytics.workspace_id, 403)
    log_analytics.fail_workspace(other, 404)
    with pytest.raises(QueryError) as raised:
        world.tick(5, source)
    assert log_analytics.workspace_id in str(raised.value) and other in str(raised.value)


def test_the_image_stays_named_when_later_lines_name_none(tmp_path: Path) -> None:
    """A later tick reads only ``Container pull image failed ...`` lines (the ``Pulling image``
    line left the window): the revision's image, its facts and its reminder keep naming it."""
    world = World(tmp_path, flavour="legacy")
    unauthorized = "Container pull image failed with unauthorized error."
    first = [row(0, f"Pulling image '{MAIN}'", "PullingImage"), row(0.2, unauthorized, "Failed")]
    world.write(first + heartbeat(range(0, 10, 5)))
    world.tick(5)
    later = [row(m, unauthorized, "ImagePullUnauthorized") for m in range(70, 300, 10)]
    world.write(later + heartbeat(range(60, 300, 5)))
    world.tick(300)  # the reminder, 4 h after the first alert; only image-less lines read
    firing, reminder = world.chat.alerts
    assert (firing.kind.value, reminder.kind.value) == ("firing", "reminder")
    assert reminder.image == MAIN and ("Image", MAIN) in reminder.facts
    entry = world.ledger.entries[f"{ENV}/orders/orders--0000009"]
    assert [image.image for image in entry.images] == [MAIN]
