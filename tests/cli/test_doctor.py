"""``pullwatch doctor`` against real parts: the fake Log Analytics endpoint (the real client),
Azurite, local webhook servers and the fake Resource Graph. Healthy: exit 0; each broken part:
non-zero, named."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from azure.storage.blob import BlobServiceClient
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from notifiers.delivery import Delivery, RetryPolicy
from pullwatch.commands.doctor import TEST_TITLE, Wiring, run_checks, run_doctor, settings_source
from pullwatch.commands.main import build_parser
from pullwatch.ledger import Ledger
from tests.fakes.azurite import AzuriteBlob
from tests.fakes.loganalytics import FAKE_TOKEN, FakeLogAnalytics
from tests.fakes.resourcegraph import FAKE_TOKEN as ARM_TOKEN
from tests.fakes.resourcegraph import FakeResourceGraph

NOW = datetime.now(UTC).replace(microsecond=0)
TEAMS_PATH = "/workflows/SECRETFLOW/triggers/manual/paths/invoke"
SLACK_PATH = "/services/T0SECRET/B0SECRET/XXXXSECRET"


class Credential:
    """One identity for Log Analytics and Resource Graph, as DefaultAzureCredential is."""

    def __init__(self, arm: str, fail: bool = False) -> None:
        self.arm, self.fail = arm, fail

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        if self.fail:
            raise ClientAuthenticationError(
                "AADSTS700016: Application with identifier x was not found"
            )
        token = ARM_TOKEN if scopes and scopes[0].startswith(self.arm) else FAKE_TOKEN
        return AccessToken(token, int(time.time()) + 3600)


@dataclass
class Chat:
    status: int
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def handle(self, request: Request) -> Response:
        self.bodies.append(json.loads(request.data))
        return Response("ok" if self.status == 200 else "channel_not_found", status=self.status)


@dataclass
class Setup:
    environ: dict[str, str]
    wiring: Wiring
    logs: FakeLogAnalytics
    graph: FakeResourceGraph
    teams: Chat
    slack: Chat
    azurite: AzuriteBlob

    def checks(self, *, send_test: bool = True) -> list[Any]:
        return run_checks(self.environ, send_test=send_test, wiring=self.wiring, now=NOW)

    def failed(self, **options: Any) -> list[str]:
        return [f"{c.check} {c.part}".strip() for c in self.checks(**options) if not c.ok]


def system_rows(minutes_ago: int) -> list[dict[str, Any]]:
    at = NOW - timedelta(minutes=minutes_ago)
    return [
        {
            "TimeGenerated": at.isoformat(),
            "EnvironmentName": "cae-prod",
            "ContainerAppName": "orders",
            "RevisionName": "orders--1",
            "ReplicaName": "orders--1-abc",
            "Reason": "RevisionReady",
            "Log": "Revision ready",
            "Type": "Normal",
        }
    ]


@pytest.fixture
def setup(
    log_analytics: FakeLogAnalytics,
    resource_graph: FakeResourceGraph,
    azurite: AzuriteBlob,
    httpserver: HTTPServer,
) -> Iterator[Setup]:
    teams, slack = Chat(202), Chat(200)
    httpserver.expect_request(TEAMS_PATH, method="POST").respond_with_handler(teams.handle)
    httpserver.expect_request(SLACK_PATH, method="POST").respond_with_handler(slack.handle)
    log_analytics.load_rows("ContainerAppSystemLogs", system_rows(30))
    fast = RetryPolicy(budget=2.0, base_backoff=0.01, max_retry_after=0.05, read_timeout=2.0)
    environ = {
        "PULLWATCH_WORKSPACE_IDS": log_analytics.workspace_id,
        "PULLWATCH_LEDGER_CONNECTION_STRING": azurite.connection_string,
        "PULLWATCH_LEDGER_CONTAINER": azurite.new_container("doctor"),
        "PULLWATCH_TEAMS_WEBHOOK_URLS": f"teams-1={httpserver.url_for(TEAMS_PATH)}?sig=SECRETSIG",
        "PULLWATCH_SLACK_WEBHOOK_URLS": f"slack-1={httpserver.url_for(SLACK_PATH)}",
        "PULLWATCH_VERIFY": "true",
        "PULLWATCH_ARM_ENDPOINT": resource_graph.endpoint,
    }
    wiring = Wiring(
        credential=Credential(resource_graph.endpoint),
        source=lambda settings, workspace, credential: log_analytics.source(
            workspace_ids=(workspace,)
        ),
        delivery=lambda settings, session: Delivery(fast, session=session),
    )
    yield Setup(environ, wiring, log_analytics, resource_graph, teams, slack, azurite)


def test_a_healthy_setup_passes_every_check(setup: Setup) -> None:
    checks = setup.checks()
    assert [(c.check, c.mark) for c in checks] == [
        ("settings", "✔"),
        ("token", "✔"),
        ("workspace", "✔"),
        ("ledger", "✔"),
        ("channel", "✔"),
        ("channel", "✔"),
        ("resource-graph", "✔"),
    ]
    by_check = {c.check: c.reason for c in checks}
    assert by_check["token"] == "Credential got a token for Log Analytics"  # which one worked
    assert "ContainerAppSystemLogs: 1 rows" in by_check["workspace"]
    assert "ContainerAppSystemLogs_CL: no rows" in by_check["workspace"]
    assert "AzureActivity: no rows" in by_check["workspace"]
    assert by_check["ledger"] == (
        "read, written and leased: 0 revisions, 0 notifications owed, 0 dead letters"
    )
    service = BlobServiceClient.from_connection_string(setup.azurite.connection_string)
    blob = service.get_blob_client(setup.environ["PULLWATCH_LEDGER_CONTAINER"], "ledger.json")
    assert Ledger.from_json(blob.download_blob().readall()) == Ledger()  # really written
    channels = [c.reason for c in checks if c.check == "channel"]
    assert channels == [
        "the test message was accepted (HTTP 202)",
        "the test message was accepted (HTTP 200)",
    ]
    for chat in (setup.teams, setup.slack):  # one message each, plainly a test
        [body] = chat.bodies
        assert TEST_TITLE in json.dumps(body, ensure_ascii=False)


def test_the_command_exits_0_when_healthy_and_prints_no_secret(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in setup.environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(Path(__file__).parent)  # no local.settings.json here
    args = build_parser().parse_args(["doctor", "--send-test"])
    assert run_doctor(args, wiring=setup.wiring) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "pullwatch doctor (settings from the environment)"
    assert out.splitlines()[-1] == "all checks passed"
    assert "SECRET" not in out and "AccountKey" not in out and FAKE_TOKEN not in out
    args = build_parser().parse_args(["doctor", "--json"])
    assert run_doctor(args, wiring=setup.wiring) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is True and len(document["checks"]) == 7


def test_broken_settings(setup: Setup) -> None:
    setup.environ["PULLWATCH_LOOKBACK"] = "forever"
    [check] = setup.checks()
    assert (check.check, check.ok) == ("settings", False)
    assert check.reason.startswith("PULLWATCH_LOOKBACK: not a duration")


def test_no_token(setup: Setup) -> None:
    setup.wiring = Wiring(
        credential=Credential(setup.graph.endpoint, fail=True), source=setup.wiring.source
    )
    checks = setup.checks(send_test=False)
    assert setup.failed(send_test=False) == ["token"]
    token = next(c for c in checks if c.check == "token")
    assert "could not get a token for Log Analytics: AADSTS700016" in token.reason
    marks = {c.check: c.mark for c in checks}
    assert marks["workspace"] == marks["resource-graph"] == "–"  # not run, not passed


def test_workspace_refused(setup: Setup) -> None:
    setup.logs.fail_next(403)
    checks = setup.checks(send_test=False)
    assert setup_failed(checks) == [f"workspace {setup.logs.workspace_id}"]
    workspace = next(c for c in checks if c.check == "workspace")
    assert "HTTP 403" in workspace.reason
    assert any('--role "Log Analytics Reader"' in line for line in workspace.fix)


def test_workspace_without_system_logs(setup: Setup) -> None:
    setup.logs.load_rows(
        "ContainerAppSystemLogs", [], workspace="22222222-2222-2222-2222-222222222222"
    )
    setup.environ["PULLWATCH_WORKSPACE_IDS"] = "22222222-2222-2222-2222-222222222222"
    checks = setup.checks(send_test=False)
    assert setup_failed(checks) == ["workspace 22222222-2222-2222-2222-222222222222"]
    workspace = next(c for c in checks if c.check == "workspace")
    assert "no Container Apps system logs in 24 hours" in workspace.reason
    assert any("properties.appLogsConfiguration" in line for line in workspace.fix)


def test_ledger_unreadable(setup: Setup) -> None:
    service = BlobServiceClient.from_connection_string(setup.azurite.connection_string)
    container = service.create_container(setup.environ["PULLWATCH_LEDGER_CONTAINER"])
    container.upload_blob("ledger.json", b"this is not JSON")
    checks = setup.checks(send_test=False)
    assert setup_failed(checks) == [f"ledger blob {container.container_name}/ledger.json"]
    ledger = next(c for c in checks if c.check == "ledger")
    assert "is not valid JSON" in ledger.reason


def test_channel_refuses_the_test_message(setup: Setup) -> None:
    setup.slack.status = 404
    checks = setup.checks()
    assert setup_failed(checks) == ["channel slack-1 (slack)"]
    slack = next(c for c in checks if c.part == "slack-1 (slack)")
    assert slack.reason == (
        "the test message was not accepted: HTTP 404 — the Slack channel or the app's webhook "
        "was removed (channel_not_found, no_service)"
    )
    assert "SECRET" not in json.dumps([c.__dict__ for c in checks])
    # without --send-test nothing is posted and the URL's form is all that is checked
    assert setup.failed(send_test=False) == []


def test_resource_graph_refused(setup: Setup) -> None:
    setup.graph.fail_next(403)
    checks = setup.checks(send_test=False)
    assert setup_failed(checks) == ["resource-graph"]
    graph = next(c for c in checks if c.check == "resource-graph")
    assert "may not read Resource Graph (403" in graph.reason
    setup.environ["PULLWATCH_VERIFY"] = "false"
    assert [c.check for c in setup.checks(send_test=False)][-1] == "channel"


def setup_failed(checks: list[Any]) -> list[str]:
    return [f"{c.check} {c.part}".strip() for c in checks if not c.ok]


def test_local_settings_json_is_read_when_present(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PULLWATCH_TABLE", "ContainerAppSystemLogs")
    environ, source = settings_source(None)
    assert source == "the environment" and environ["PULLWATCH_TABLE"] == "ContainerAppSystemLogs"
    (tmp_path / "local.settings.json").write_text(
        json.dumps({"IsEncrypted": False, "Values": {"PULLWATCH_TABLE": "auto"}})
    )
    environ, source = settings_source(None)
    assert source == "local.settings.json" and environ["PULLWATCH_TABLE"] == "auto"
