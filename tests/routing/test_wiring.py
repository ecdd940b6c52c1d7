"""From settings to notifiers: each named channel becomes its service's notifier under its name."""

from __future__ import annotations

from notifiers.pagerduty import PagerDutyNotifier
from notifiers.slack import SlackNotifier
from notifiers.teams import TeamsNotifier
from notifiers.webhook import WebhookNotifier
from pullwatch.settings import load_settings
from pullwatch.tick.runtime import build_notifiers

TEAMS = "https://prod-12.westeurope.logic.azure.com:443/workflows/abc/paths/invoke?sig=SECRET1"
SLACK = "https://hooks.slack.com/services/T000/B000/SECRET2"
KEY = "SECRET3000000000000000000000000a"


def test_named_channels_become_notifiers_with_those_names() -> None:
    settings = load_settings(
        {
            "PULLWATCH_TEAMS_WEBHOOK_URLS": f"platform-teams={TEAMS}\n{TEAMS}2",
            "PULLWATCH_SLACK_WEBHOOK_URLS": f"orders-slack={SLACK}",
            "PULLWATCH_WEBHOOK_URLS": "https://example.logic.azure.com/hook?sig=SECRET4",
            "PULLWATCH_PAGERDUTY_ROUTING_KEYS": f"pagerduty-prod={KEY}",
            "PULLWATCH_PAGERDUTY_EVENTS_URL": "http://127.0.0.1:9/v2/enqueue",
        }
    )
    notifiers = build_notifiers(settings)
    assert [(type(n), n.channel) for n in notifiers] == [
        (TeamsNotifier, "platform-teams"),
        (TeamsNotifier, "teams-2"),
        (SlackNotifier, "orders-slack"),
        (WebhookNotifier, "webhook-1"),
        (PagerDutyNotifier, "pagerduty-prod"),
    ]
    assert "127.0.0.1" in repr(notifiers[-1])
    assert "SECRET" not in repr(notifiers) + repr([vars(n) for n in notifiers])
