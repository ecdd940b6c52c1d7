"""Wiring from settings: one notifier per webhook URL, the right source and store, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifiers.slack import SlackNotifier
from notifiers.teams import TeamsNotifier
from notifiers.webhook import WebhookNotifier
from pullwatch.errors import SettingsError
from pullwatch.fetch.filesource import FileSource
from pullwatch.fetch.logquery import LogAnalyticsSource
from pullwatch.ledger.stores import BlobStore, FileStore
from pullwatch.settings import load_settings
from pullwatch.tick.runtime import build_components, build_notifiers, build_source

TEAMS = "https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=SECRET1"
SLACK = "https://hooks.slack.com/services/T000/B000/SECRET2"
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "containerapp-system-logs-cl.json"


def test_one_notifier_per_url_with_stable_channel_ids() -> None:
    settings = load_settings(
        {
            "PULLWATCH_TEAMS_WEBHOOK_URLS": f"{TEAMS},{TEAMS}2",
            "PULLWATCH_SLACK_WEBHOOK_URLS": SLACK,
            "PULLWATCH_WEBHOOK_URLS": "https://example.logic.azure.com/hook?sig=SECRET3",
        }
    )
    notifiers = build_notifiers(settings)
    assert [(type(n), n.channel) for n in notifiers] == [
        (TeamsNotifier, "teams-1"),
        (TeamsNotifier, "teams-2"),
        (SlackNotifier, "slack-1"),
        (WebhookNotifier, "webhook-1"),
    ]
    assert "SECRET" not in repr(notifiers)


def test_source_is_the_file_when_given_else_log_analytics() -> None:
    settings = load_settings({"PULLWATCH_WORKSPACE_IDS": "6b1f9a52-0c1e-4c53-9d43-1f0b8f4c2a11"})
    assert isinstance(build_source(settings, from_file=SAMPLE), FileSource)
    assert isinstance(build_source(settings), LogAnalyticsSource)
    with pytest.raises(SettingsError, match="no such file"):
        build_source(settings, from_file=SAMPLE.with_name("missing.json"))
    with pytest.raises(SettingsError, match="PULLWATCH_WORKSPACE_IDS"):
        build_source(load_settings({}))


def test_store_is_the_blob_when_configured_else_the_file(tmp_path: Path) -> None:
    environ = {
        "PULLWATCH_SLACK_WEBHOOK_URLS": SLACK,
        "PULLWATCH_LEDGER_PATH": str(tmp_path / "l.json"),
    }
    assert isinstance(build_components(environ, from_file=SAMPLE).store, FileStore)
    environ["PULLWATCH_LEDGER_ACCOUNT_URL"] = "https://stpullwatch.blob.core.windows.net"
    components = build_components(environ, from_file=SAMPLE)
    assert isinstance(components.store, BlobStore)
    assert components.digest_threshold == 5 and [n.channel for n in components.notifiers] == [
        "slack-1"
    ]
