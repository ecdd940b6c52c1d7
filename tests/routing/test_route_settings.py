"""PULLWATCH_ROUTES at settings load: inline or a file, and one-line errors naming route and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pullwatch.errors import SettingsError
from pullwatch.settings import load_settings

TEAMS = "https://prod-1.westeurope.logic.azure.com/workflows/SECRETPATH?sig=SECRETSIG"
KEY = "R0UTINGKEYSECRET0123456789abcdef"
CHANNELS = {
    "PULLWATCH_TEAMS_WEBHOOK_URLS": f"platform-teams={TEAMS}\norders-teams={TEAMS}2",
    "PULLWATCH_PAGERDUTY_ROUTING_KEYS": f"pagerduty-prod={KEY}",
}
GOOD = [
    {"match": {"app": "orders-*"}, "channels": ["orders-teams"]},
    {"match": {"environment": "cae-prod"}, "channels": ["pagerduty-prod"]},
]


def load(routes: object) -> object:
    text = routes if isinstance(routes, str) else json.dumps(routes)
    return load_settings({**CHANNELS, "PULLWATCH_ROUTES": text})


def test_inline_routes_are_read() -> None:
    settings = load_settings({**CHANNELS, "PULLWATCH_ROUTES": json.dumps(GOOD)})
    assert [r.channels for r in settings.routes.routes] == [("orders-teams",), ("pagerduty-prod",)]
    assert settings.routes.default is None


def test_routes_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "routes.json"
    path.write_text(json.dumps({"routes": GOOD, "default": ["platform-teams"]}), "utf-8")
    settings = load_settings({**CHANNELS, "PULLWATCH_ROUTES": str(path)})
    assert settings.routes.default == ("platform-teams",)
    path.write_text('[{"channels": ["nobody"]}]', "utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings({**CHANNELS, "PULLWATCH_ROUTES": str(path)})
    assert str(caught.value).startswith("PULLWATCH_ROUTES (routes.json) routes[0].channels:")


def test_a_missing_routes_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"cannot read the routes file .*No such file"):
        load_settings({**CHANNELS, "PULLWATCH_ROUTES": str(tmp_path / "nope.json")})


@pytest.mark.parametrize(
    ("routes", "words"),
    [
        ('[{"channels": ["orders-teams"],}]', "PULLWATCH_ROUTES is not valid JSON: "),
        ("[{]", "line 1 column 3"),
        ('"orders-teams"', "routes: must be a list of routes"),
        ({"route": []}, "PULLWATCH_ROUTES route: unknown field"),
        ({"default": []}, "routes: is required"),
        ({"routes": [], "default": ["pager"]}, "default: unknown channel 'pager'"),
        ([{"match": {}}], "routes[0].channels: is required"),
        ([{"channels": "orders-teams"}], "routes[0].channels: must be a list"),
        (
            [GOOD[0], {"channels": ["orders-slack"]}],
            "routes[1].channels: unknown channel 'orders-slack'",
        ),
        ([{"channels": [], "chanels": []}], "routes[0].chanels: unknown field"),
        (
            [{"channels": [], "match": {"application": "x"}}],
            "routes[0].match.application: unknown field",
        ),
        (
            [{"channels": [], "match": {"app": "orders-(api|web)"}}],
            "routes[0].match.app: is not a glob",
        ),
        ([{"channels": [], "match": {"app": "orders-[ab"}}], "routes[0].match.app: has a '['"),
        (
            [{"channels": [], "match": {"environment": ""}}],
            "routes[0].match.environment: is an empty glob",
        ),
        ([{"channels": [], "match": {"app": []}}], "routes[0].match.app: is an empty list"),
        ([{"channels": [], "match": {"job": 3}}], "routes[0].match.job: must be a glob"),
        (
            [{"channels": [], "match": {"cause": ["registry-unauthorised"]}}],
            "routes[0].match.cause: unknown cause id 'registry-unauthorised'",
        ),
        (
            [{"channels": [], "match": {"cause": "tls*x"}}],
            "routes[0].match.cause: unknown cause id",
        ),
        (
            [{"channels": [], "match": {"transient": "no"}}],
            "routes[0].match.transient: must be true",
        ),
        ([{"channels": [], "continue": 1}], "routes[0].continue: must be true or false"),
        (
            [{"channels": [], "repeat_interval": "an hour"}],
            "routes[0].repeat_interval: not a duration",
        ),
        (
            [{"channels": [], "repeat_interval": 60}],
            "routes[0].repeat_interval: must be a duration",
        ),
        (
            [
                GOOD[0],
                {"channels": [], "mute": [{"from": "19:00", "to": "08:00", "tz": "Europe/Berln"}]},
            ],
            "routes[1].mute[0].tz: unknown time zone 'Europe/Berln'",
        ),
        (
            [{"channels": [], "mute": [{"from": "19", "to": "8"}]}],
            "routes[0].mute[0].from: must be",
        ),
        ([{"channels": [], "mute": {"from": "19:00"}}], "routes[0].mute: must be a list"),
        (
            [{"channels": [], "mute": [{"from": "00:00", "to": "24:00"}]}],
            "routes[0].mute: the windows leave no hour free",
        ),
        (["orders-teams"], "routes[0]: must be an object"),
    ],
)
def test_bad_routes_are_one_line_errors_naming_route_and_field(routes: object, words: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load(routes)
    message = str(caught.value)
    assert message.startswith("PULLWATCH_ROUTES")
    assert words in message
    assert "\n" not in message
    assert "SECRET" not in message and "R0UTINGKEY" not in message


def test_unknown_channel_error_lists_the_configured_names() -> None:
    with pytest.raises(SettingsError) as caught:
        load([{"channels": ["platform"]}])
    assert "configured: orders-teams, pagerduty-prod, platform-teams" in str(caught.value)


def test_routes_need_the_channels_loaded_first() -> None:
    """Without any channel configured every named channel in a route is unknown."""
    with pytest.raises(SettingsError, match="configured: none"):
        load_settings({"PULLWATCH_ROUTES": json.dumps(GOOD)})
