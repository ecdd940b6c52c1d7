"""Notices about pullwatch itself, as each notifier renders them (checked like alerts are)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifiers.alert import Alert, AlertKind
from notifiers.console import render_text
from notifiers.pagerduty import render_event
from notifiers.slack import render_message
from notifiers.teams import render_card
from notifiers.webhook import render_alert
from pullwatch.health.selfalerts import HealthPolicy, notice_alert, probe_alert
from pullwatch.ledger.health import Health, PartKind, observe_failure
from tests.notifiers.checks import block_kit_problems, card_of, validate_cards

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def notices() -> list[Alert]:
    health = observe_failure(Health(), PartKind.CHANNEL, "teams-2", "HTTP 404", T0, service="teams")
    part = health.parts["channel:teams-2"]
    later = T0 + timedelta(hours=2)
    return [
        notice_alert(part, AlertKind.HEALTH_FAILING, later, HealthPolicy()),
        notice_alert(part, AlertKind.HEALTH_REMINDER, later, HealthPolicy()),
        notice_alert(part, AlertKind.HEALTH_RECOVERED, later, HealthPolicy()),
        probe_alert(part, later),
    ]


def test_teams_cards_parse_and_read_as_notices(tmp_path: Path) -> None:
    paths = []
    for number, alert in enumerate(notices()):
        message = render_card(alert)
        text = json.dumps(message, ensure_ascii=False)
        assert alert.cause_title in text and "failed pull" not in text
        assert card_of(message)["body"][0]["style"] == (
            "good" if alert.kind is AlertKind.HEALTH_RECOVERED else "warning"
        )
        paths.append(tmp_path / f"notice-{number}.json")
        paths[-1].write_text(text, "utf-8")
    assert validate_cards(paths) == {str(p): [] for p in paths}
    failing = json.dumps(render_card(notices()[0]))
    assert "What to do" in failing and "doctor --send-test" in failing


def test_slack_messages_keep_block_kit_rules() -> None:
    for alert in notices():
        payload = render_message(alert)
        assert block_kit_problems(payload) == []
        assert payload["text"].startswith(
            "pullwatch is healthy again"
            if alert.kind is AlertKind.HEALTH_RECOVERED
            else "pullwatch"
        )
        assert "failed pull" not in json.dumps(payload)


def test_the_generic_webhook_gets_the_documented_object() -> None:
    body = render_alert(notices()[0])
    assert body["schema"] == "pullwatch.alert/v1" and body["kind"] == "health-failing"
    assert body["key"] == "pullwatch/channel/teams-2"
    assert body["extra"] == {"part": "channel:teams-2", "error": "HTTP 404"}
    assert body["cause"] == "channel-http-404"
    doc = (Path(__file__).resolve().parents[2] / "docs" / "alert-schema.md").read_text()
    for kind in ("health-failing", "health-reminder", "health-recovered"):
        assert f"`{kind}`" in doc


def test_console_and_pagerduty() -> None:
    text = render_text(notices()[0])
    assert text.splitlines()[0] == "⚠️ pullwatch cannot deliver to channel teams-2"
    assert "$ python -m pullwatch doctor --send-test" in text
    for alert in notices():  # never routed to PagerDuty; if it were, no event would go out
        assert render_event(alert) is None


@pytest.mark.parametrize("alert", notices(), ids=lambda a: a.kind.value)
def test_no_url_or_secret_in_a_notice(alert: Alert) -> None:
    text = json.dumps(alert.to_dict())
    assert "https://" not in text.replace("https://api.loganalytics.io", "")
