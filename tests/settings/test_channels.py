"""Named channels: ``name=URL`` / ``name=key`` entries, bare ones numbered, names unique, secrets hidden."""

from __future__ import annotations

import pytest

from pullwatch.errors import SettingsError
from pullwatch.settings import load_settings

TEAMS = "https://prod-12.westeurope.logic.azure.com:443/workflows/SECRETPATH/triggers/manual/paths/invoke?api-version=2016-06-01&sig=SECRETSIG"
SLACK = "https://hooks.slack.com/services/T000/B000/SECRETSLACK"
KEY = "SECRETKEY0123456789abcdefABCDEF0"


def names(environ: dict[str, str]) -> list[tuple[str, str]]:
    return [(c.name, c.service) for c in load_settings(environ).channels]


def test_named_and_bare_entries() -> None:
    environ = {
        "PULLWATCH_TEAMS_WEBHOOK_URLS": f"platform-teams={TEAMS}\n{TEAMS}2, orders.teams = {TEAMS}3",
        "PULLWATCH_SLACK_WEBHOOK_URLS": SLACK,
        "PULLWATCH_WEBHOOK_URLS": "logic_app=https://example.logic.azure.com/hook?a=1&sig=SECRET4",
        "PULLWATCH_PAGERDUTY_ROUTING_KEYS": f"{KEY}\npagerduty-prod={KEY[::-1]}",
    }
    assert names(environ) == [
        ("platform-teams", "teams"),
        ("teams-2", "teams"),  # bare entries keep their position's number
        ("orders.teams", "teams"),
        ("slack-1", "slack"),
        ("logic_app", "webhook"),
        ("pagerduty-1", "pagerduty"),
        ("pagerduty-prod", "pagerduty"),
    ]
    settings = load_settings(environ)
    assert settings.teams_webhooks[0].url.secret() == TEAMS  # the query's '=' stays in the URL
    assert settings.generic_webhooks[0].url.secret().endswith("a=1&sig=SECRET4")
    pager = settings.pagerduty_channels[1]
    assert pager.routing_key is not None and pager.routing_key.secret() == KEY[::-1]
    assert pager.url.secret() == "https://events.pagerduty.com/v2/enqueue"
    text = repr(settings) + str(settings.channels)
    assert "SECRET" not in text and KEY[::-1] not in text
    assert "pagerduty-prod" in text and "RoutingKey(…)" in text


def test_events_url_may_be_loopback_http_for_tests() -> None:
    settings = load_settings(
        {
            "PULLWATCH_PAGERDUTY_ROUTING_KEYS": KEY,
            "PULLWATCH_PAGERDUTY_EVENTS_URL": "http://127.0.0.1:8080/v2/enqueue",
        }
    )
    assert settings.pagerduty_channels[0].url.secret() == "http://127.0.0.1:8080/v2/enqueue"
    assert settings.has_notifier


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        (
            {
                "PULLWATCH_TEAMS_WEBHOOK_URLS": f"ops={TEAMS}",
                "PULLWATCH_SLACK_WEBHOOK_URLS": f"ops={SLACK}",
            },
            ["PULLWATCH_SLACK_WEBHOOK_URLS", "'ops' is used twice", "PULLWATCH_TEAMS_WEBHOOK_URLS"],
        ),
        (
            {"PULLWATCH_TEAMS_WEBHOOK_URLS": f"{TEAMS}\nteams-1={TEAMS}2"},
            ["PULLWATCH_TEAMS_WEBHOOK_URLS", "'teams-1' is used twice"],
        ),
        (
            {"PULLWATCH_TEAMS_WEBHOOK_URLS": f"orders team={TEAMS}"},
            ["PULLWATCH_TEAMS_WEBHOOK_URLS entry 1", "the name before '='", "letters, digits"],
        ),
        (
            {"PULLWATCH_SLACK_WEBHOOK_URLS": f"{SLACK}\norders="},
            ["PULLWATCH_SLACK_WEBHOOK_URLS entry 2 (orders)", "nothing after '='"],
        ),
        (
            {"PULLWATCH_SLACK_WEBHOOK_URLS": "orders=http://hooks.slack.com/services/SECRET"},
            ["PULLWATCH_SLACK_WEBHOOK_URLS entry 1 (orders)", "https"],
        ),
        (
            {"PULLWATCH_PAGERDUTY_ROUTING_KEYS": "pd=SECRET-KEY-WITH-DASHES-0123456"},
            ["PULLWATCH_PAGERDUTY_ROUTING_KEYS entry 1 (pd)", "32-character Integration Key"],
        ),
        (
            {"PULLWATCH_PAGERDUTY_ROUTING_KEYS": "https://events.pagerduty.com/v2/enqueue?SECRET"},
            ["PULLWATCH_PAGERDUTY_ROUTING_KEYS entry 1 (pagerduty-1)", "Integration Key"],
        ),
        (
            {"PULLWATCH_PAGERDUTY_ROUTING_KEYS": f"{KEY}=pagerduty-prod"},  # the wrong way round
            ["PULLWATCH_PAGERDUTY_ROUTING_KEYS entry 1", "looks like a routing key"],
        ),
        (
            {"PULLWATCH_PAGERDUTY_EVENTS_URL": "http://events.pagerduty.com/v2/enqueue"},
            ["PULLWATCH_PAGERDUTY_EVENTS_URL", "https"],
        ),
        (
            {
                "PULLWATCH_PAGERDUTY_ROUTING_KEYS": "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/pd/)"
            },
            ["PULLWATCH_PAGERDUTY_ROUTING_KEYS", "unresolved Key Vault reference"],
        ),
    ],
    ids=[
        "duplicate-across-services",
        "named-like-a-bare-one",
        "bad-name",
        "empty-value",
        "http-url",
        "bad-key",
        "url-as-key",
        "key-as-name",
        "http-events-url",
        "keyvault-leftover",
    ],
)
def test_bad_channel_entries(environ: dict[str, str], words: list[str]) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ)
    message = str(caught.value)
    for word in words:
        assert word in message, message
    assert "SECRET" not in message and "\n" not in message
