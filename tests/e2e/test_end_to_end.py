"""The whole pipeline with real parts: the fake Log Analytics endpoint (real LogsQueryClient,
KQL executed by duckdb-kql), an Azurite blob ledger, and local webhook servers for Teams and
Slack (real HTTP, real notifiers, real delivery code)."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from notifiers.delivery import Delivery, RetryPolicy
from notifiers.endpoint import WebhookURL
from notifiers.slack import SlackNotifier
from notifiers.teams import TeamsNotifier
from pullwatch.decide import Policy
from pullwatch.errors import LedgerError
from pullwatch.ledger import Ledger, pending
from pullwatch.ledger.stores import BlobStore
from pullwatch.settings import TableMode
from pullwatch.tick.pipeline import TickSummary, run_tick
from tests.fakes.azurite import AzuriteBlob
from tests.fakes.loganalytics import FakeLogAnalytics

TABLE = TableMode.RESOURCE.value
T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
TEAMS_PATH = "/workflows/5e1f0c/triggers/manual/paths/invoke"
SLACK_PATH = "/services/T0SECRET/B0SECRET/XXXXSECRET"
CAUSE_LINES = {
    "orders": 'Failed to pull image "contoso.azurecr.io/orders:1.4.3": rpc error: code = NotFound desc = failed to pull and unpack image "contoso.azurecr.io/orders:1.4.3": failed to resolve reference "contoso.azurecr.io/orders:1.4.3": contoso.azurecr.io/orders:1.4.3: not found',
    "payments": 'Failed to pull image "contoso.azurecr.io/payments:2.0": rpc error: code = Unknown desc = failed to pull and unpack image "contoso.azurecr.io/payments:2.0": failed to resolve reference "contoso.azurecr.io/payments:2.0": failed to authorize: failed to fetch oauth token: unexpected status from GET request to https://contoso.azurecr.io/oauth2/token?scope=repository%3Apayments%3Apull&service=contoso.azurecr.io: 401 Unauthorized',
    "catalog": 'Failed to pull image "contoso.azurecr.io/catalog:7": rpc error: code = Unknown desc = failed to pull and unpack image "contoso.azurecr.io/catalog:7": failed to resolve reference "contoso.azurecr.io/catalog:7": failed to do request: Head "https://contoso.azurecr.io/v2/catalog/manifests/7": dial tcp: lookup contoso.azurecr.io on 168.63.129.16:53: no such host',
}


def row(
    app: str, at: datetime, log: str, reason: str = "ImagePullFailed", **extra: Any
) -> dict[str, Any]:
    revision = f"{app}--0000003"
    return {
        "TimeGenerated": at.isoformat(),
        "EnvironmentName": "cae-prod",
        "ContainerAppName": app,
        "RevisionName": revision,
        "ReplicaName": f"{revision}-6d5f7b9c8-ab1cd",
        "Reason": reason,
        "Log": log,
        "Type": "Warning",
        "EventSource": "ContainerAppController",
        "Count": 1,
        "_ResourceId": f"/subscriptions/0000/resourceGroups/rg-prod/providers/Microsoft.App/containerApps/{app}",
        **extra,
    }


def failing_rows(apps: list[str], start: datetime, repeats: int = 3) -> list[dict[str, Any]]:
    rows = []
    for app in apps:
        for n in range(repeats):
            rows.append(row(app, start + timedelta(minutes=n), CAUSE_LINES[app]))
            rows.append(row(app, start + timedelta(minutes=n), CAUSE_LINES[app]))  # duplicate
        rows.append(row(app, start, "Revision ready", reason="RevisionReady", Type="Normal"))
    return rows


@dataclass
class Chat:
    """A local webhook endpoint that records what it accepted and can be told to fail."""

    service: str
    accepted: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200  # answer this while != 200

    def handle(self, request: Request) -> Response:
        if self.status != 200:
            return Response("rollup_error", status=self.status)
        self.accepted.append(json.loads(request.data))
        if self.service == "teams":
            return Response("", status=202)
        return Response("ok", status=200, content_type="text/plain")

    def texts(self) -> list[str]:
        if self.service == "slack":
            return [message["text"] for message in self.accepted]
        return [json.dumps(message) for message in self.accepted]


class CountingStore:
    """The real BlobStore (leased), counting saves; ``fail_at`` makes that save raise, as a
    storage account that stopped answering would."""

    def __init__(self, inner: BlobStore) -> None:
        self.inner = inner
        self.saves = 0
        self.attempts = 0
        self.fail_at = 0

    def locked(self) -> contextlib.AbstractContextManager[BlobStore]:
        return self.inner.locked()

    def load(self) -> tuple[Ledger, str | None]:
        return self.inner.load()

    def save(self, ledger: Ledger, version: str | None) -> str:
        self.attempts += 1
        if self.attempts == self.fail_at:
            raise LedgerError("cannot write ledger blob e2e/ledger.json: HTTP 503 ServerBusy")
        self.saves += 1
        return self.inner.save(ledger, version)


@dataclass
class World:
    logs: FakeLogAnalytics
    store: CountingStore
    teams: Chat
    slack: Chat
    notifiers: list[Any]

    def tick(self, now: datetime, *, threshold: int = 5) -> TickSummary:
        return run_tick(
            source=self.logs.source(TableMode.AUTO, lookback=timedelta(minutes=60)),
            store=self.store,
            notifiers=self.notifiers,
            policy=Policy(),
            now=now,
            digest_threshold=threshold,
        )


@pytest.fixture
def world(
    log_analytics: FakeLogAnalytics, azurite: AzuriteBlob, httpserver: HTTPServer
) -> Iterator[World]:
    teams, slack = Chat("teams"), Chat("slack")
    httpserver.expect_request(TEAMS_PATH, method="POST").respond_with_handler(teams.handle)
    httpserver.expect_request(SLACK_PATH, method="POST").respond_with_handler(slack.handle)
    delivery = Delivery(
        RetryPolicy(budget=2.0, base_backoff=0.01, max_retry_after=0.05, read_timeout=2.0)
    )
    notifiers = [
        TeamsNotifier(
            WebhookURL(httpserver.url_for(TEAMS_PATH) + "?sig=SECRETSIG"),
            "teams-1",
            delivery=delivery,
        ),
        SlackNotifier(WebhookURL(httpserver.url_for(SLACK_PATH)), "slack-1", delivery=delivery),
    ]
    store = CountingStore(
        BlobStore.from_connection_string(
            azurite.connection_string, azurite.new_container("e2e"), "ledger.json"
        )
    )
    log_analytics.load_rows("ContainerAppSystemLogs_CL", [])  # the workspace has both tables
    yield World(log_analytics, store, teams, slack, notifiers)


APPS = ["catalog", "orders", "payments"]


def test_one_alert_per_failing_revision_then_silence(world: World) -> None:
    world.logs.load_rows(TABLE, failing_rows(APPS, T0))
    summary = world.tick(T0 + timedelta(minutes=10))
    assert summary.decisions["firing"] == 3 and summary.watermark_advanced
    assert len(world.teams.accepted) == len(world.slack.accepted) == 3
    slack_texts = " ".join(world.slack.texts())
    for cause in (
        "Image or tag not found",
        "Registry rejected the credentials (401)",
        "Registry host does not resolve (DNS)",
    ):
        assert cause in slack_texts
    for message in world.teams.accepted:
        assert message["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    # Tick 2: the same failures (and nothing newer) bring nothing.
    summary = world.tick(T0 + timedelta(minutes=15))
    assert summary.messages_sent == 0 and len(world.slack.accepted) == 3
    # Late rows for the same revisions (ingested after the watermark) only raise counts.
    world.logs.load_rows(TABLE, failing_rows(APPS, T0 + timedelta(minutes=12), repeats=1))
    summary = world.tick(T0 + timedelta(minutes=20))
    assert summary.groups > 0 and summary.messages_sent == 0


def test_teams_down_for_a_tick_gets_it_next_tick_and_slack_not_twice(world: World) -> None:
    world.logs.load_rows(TABLE, failing_rows(["orders"], T0))
    world.teams.status = 500
    summary = world.tick(T0 + timedelta(minutes=10))
    assert len(world.slack.accepted) == 1 and world.teams.accepted == []
    assert summary.failed == 1 and summary.pending_left == 1
    world.teams.status = 200
    summary = world.tick(T0 + timedelta(minutes=15))
    assert len(world.teams.accepted) == 1 and len(world.slack.accepted) == 1
    assert summary.pending_left == 0


def test_recovery_sends_one_resolved_message(world: World) -> None:
    world.logs.load_rows(TABLE, failing_rows(["orders"], T0))
    world.tick(T0 + timedelta(minutes=10))
    pulled = T0 + timedelta(minutes=14)
    world.logs.load_rows(
        TABLE,
        [
            row(
                "orders",
                pulled,
                "Successfully pulled image 'contoso.azurecr.io/orders:1.4.3' in 2.1s",
                reason="PulledImage",
                Type="Normal",
            ),
            row(
                "orders",
                pulled,
                "Started container 'orders'",
                reason="ContainerStarted",
                Type="Normal",
            ),
        ],
    )
    world.tick(T0 + timedelta(minutes=20))
    world.tick(T0 + timedelta(minutes=25))
    assert len(world.slack.accepted) == 2
    assert world.slack.texts()[1].startswith("Resolved")
    assert "Resolved" in json.dumps(world.teams.accepted[1])


def test_intent_not_saved_posts_nothing(world: World) -> None:
    world.logs.load_rows(TABLE, failing_rows(["payments"], T0))
    world.store.fail_at = 1  # the intent
    with pytest.raises(LedgerError, match="ServerBusy"):
        world.tick(T0 + timedelta(minutes=10))
    assert world.slack.accepted == [] and world.teams.accepted == []
    for minutes in (15, 20):
        world.tick(T0 + timedelta(minutes=minutes))
    assert len(world.slack.accepted) == 1 and len(world.teams.accepted) == 1


def test_delivery_not_recorded_repeats_at_most_one_post_per_channel(world: World) -> None:
    world.logs.load_rows(TABLE, failing_rows(APPS, T0))
    world.store.fail_at = 2  # the intent is saved, the first delivery record is not
    with pytest.raises(LedgerError, match="ServerBusy"):
        world.tick(T0 + timedelta(minutes=10))
    first_tick = len(world.slack.accepted) + len(world.teams.accepted)
    assert 1 <= first_tick <= 2  # no post starts after one that could not be recorded
    for minutes in (15, 20):
        world.tick(T0 + timedelta(minutes=minutes))
    for chat in (world.slack, world.teams):
        assert 3 <= len(chat.accepted) <= 4  # every alert once, at most one repeated
    ledger, _ = world.store.load()
    assert not pending(ledger) and "cae-prod/payments/payments--0000003" in ledger.entries


def test_a_thousand_failing_revisions_one_digest_per_channel_few_saves(world: World) -> None:
    line = CAUSE_LINES["orders"]
    rows = [
        row(f"svc{n:04d}", T0 + timedelta(seconds=n), line.replace("orders", f"svc{n:04d}"))
        for n in range(1000)
    ]
    world.logs.load_rows(TABLE, rows)
    summary = world.tick(T0 + timedelta(minutes=20))
    assert summary.revisions == 1000 and summary.decisions["firing"] == 1000
    names = [f"svc{n:04d}--0000003" for n in range(1000)]
    for chat in (world.teams, world.slack):  # pages within the service's limits, each once
        shown = [re.findall(r"svc\d{4}--0000003", json.dumps(m)) for m in chat.accepted]
        assert sorted(name for page in shown for name in set(page)) == names
        assert all(len(json.dumps(m).encode()) <= 28 * 1024 for m in world.teams.accepted)
    assert all(len(m["blocks"]) <= 50 for m in world.slack.accepted)
    assert "1000" in world.slack.accepted[0]["text"]
    messages = len(world.teams.accepted) + len(world.slack.accepted)
    assert summary.messages_sent == messages and not pending(world.store.load()[0])
    assert world.store.saves <= 1 + messages  # the intent, then at most one per message


def test_secrets_never_in_logs(world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.logs.load_rows(TABLE, failing_rows(["orders"], T0))
    world.teams.status = 500
    with caplog.at_level("DEBUG"):
        world.tick(T0 + timedelta(minutes=10))
    # werkzeug is the local test server's own access log (it prints request paths); ours is the rest
    text = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))
    assert "pullwatch" in " ".join(r.name for r in caplog.records)
    assert "SECRET" not in text and "fake-log-analytics-token" not in text
