"""Settings: defaults, and a clear error naming the setting for each broken value."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pullwatch.errors import SettingsError
from pullwatch.settings import SETTING_NAMES, SETTING_SPECS, TableMode, load_settings

WORKSPACE = "6b1f9a52-0c1e-4c53-9d43-1f0b8f4c2a11"
TEAMS = "https://prod-12.westeurope.logic.azure.com:443/workflows/abc123/triggers/manual/paths/invoke?api-version=2016-06-01&sig=SuperSecretSig"


def test_defaults() -> None:
    settings = load_settings({})
    assert settings.table is TableMode.AUTO
    assert settings.lookback == timedelta(minutes=60)
    assert settings.repeat_interval == timedelta(hours=4)
    assert settings.transient_grace == timedelta(minutes=10)
    assert settings.transient_occurrences == 3
    assert settings.quiet_period == timedelta(minutes=30)
    assert settings.retention == timedelta(days=7)
    assert settings.digest_threshold == 5
    assert settings.schedule == "0 */5 * * * *"
    assert settings.ledger_container == "pullwatch" and settings.ledger_blob == "ledger.json"
    assert not settings.uses_blob_ledger and not settings.has_notifier


def test_every_spec_default_is_accepted() -> None:
    environ = {spec.name: spec.default for spec in SETTING_SPECS if spec.default is not None}
    load_settings(environ)


def test_values_are_read() -> None:
    settings = load_settings(
        {
            "PULLWATCH_WORKSPACE_IDS": f"{WORKSPACE}, {WORKSPACE.upper()}",
            "PULLWATCH_TABLE": "containerappsystemlogs_cl",
            "PULLWATCH_REPEAT_INTERVAL": "0",
            "PULLWATCH_LOOKBACK": "1h30m",
            "PULLWATCH_TEAMS_WEBHOOK_URLS": f"{TEAMS}\nhttp://127.0.0.1:8080/hook",
            "PULLWATCH_DRY_RUN": "yes",
        }
    )
    assert settings.workspace_ids == (WORKSPACE, WORKSPACE.upper())
    assert settings.table is TableMode.LEGACY
    assert settings.repeat_interval == timedelta(0)
    assert settings.lookback == timedelta(minutes=90)
    assert len(settings.teams_webhooks) == 2 and settings.dry_run


@pytest.mark.parametrize(
    ("environ", "kwargs", "words"),
    [
        ({}, {"require_workspace": True}, ["PULLWATCH_WORKSPACE_IDS", "workspace id"]),
        ({"PULLWATCH_WORKSPACE_IDS": "my-workspace"}, {}, ["PULLWATCH_WORKSPACE_IDS", "GUID"]),
        ({"PULLWATCH_LOOKBACK": "an hour"}, {}, ["PULLWATCH_LOOKBACK", "not a duration"]),
        ({"PULLWATCH_LOOKBACK": "0"}, {}, ["PULLWATCH_LOOKBACK", "longer than zero"]),
        ({"PULLWATCH_REPEAT_INTERVAL": "4 hours"}, {}, ["PULLWATCH_REPEAT_INTERVAL"]),
        (
            {"PULLWATCH_TRANSIENT_OCCURRENCES": "-1"},
            {},
            ["PULLWATCH_TRANSIENT_OCCURRENCES", "whole number"],
        ),
        ({"PULLWATCH_TABLE": "ContainerAppConsoleLogs"}, {}, ["PULLWATCH_TABLE", "auto"]),
        ({"PULLWATCH_DRY_RUN": "maybe"}, {}, ["PULLWATCH_DRY_RUN", "true or false"]),
        ({"PULLWATCH_SCHEDULE": "*/5 * * * *"}, {}, ["PULLWATCH_SCHEDULE", "6-field"]),
        (
            {"PULLWATCH_LOGS_ENDPOINT": "http://api.loganalytics.io/v1"},
            {},
            ["PULLWATCH_LOGS_ENDPOINT", "https"],
        ),
        (
            {
                "PULLWATCH_SLACK_WEBHOOK_URLS": "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/slack/)"
            },
            {},
            [
                "PULLWATCH_SLACK_WEBHOOK_URLS",
                "unresolved Key Vault reference",
                "Key Vault Secrets User",
            ],
        ),
        (
            {
                "PULLWATCH_TEAMS_WEBHOOK_URLS": "http://prod-1.westeurope.logic.azure.com/workflows/x?sig=SECRET"
            },
            {},
            ["PULLWATCH_TEAMS_WEBHOOK_URLS", "entry 1", "https"],
        ),
        ({}, {"require_notifier": True}, ["no notifier is configured", "PULLWATCH_DRY_RUN"]),
    ],
    ids=[
        "missing-workspace",
        "workspace-not-guid",
        "malformed-duration",
        "zero-lookback",
        "repeat-interval-words",
        "negative-occurrences",
        "unknown-table",
        "bad-boolean",
        "five-field-cron",
        "http-endpoint",
        "unresolved-keyvault-reference",
        "non-https-webhook",
        "no-notifier",
    ],
)
def test_errors_name_the_setting(
    environ: dict[str, str], kwargs: dict[str, bool], words: list[str]
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ, **kwargs)
    message = str(caught.value)
    for word in words:
        assert word in message
    assert "SECRET" not in message and "sig=" not in message


def test_dry_run_needs_no_notifier() -> None:
    assert load_settings({"PULLWATCH_DRY_RUN": "true"}, require_notifier=True).dry_run


def test_webhook_secrets_never_in_repr() -> None:
    settings = load_settings(
        {
            "PULLWATCH_TEAMS_WEBHOOK_URLS": TEAMS,
            "PULLWATCH_LEDGER_CONNECTION_STRING": "AccountKey=SECRETKEY",
        }
    )
    text = repr(settings) + str(settings)
    assert "SuperSecretSig" not in text and "abc123" not in text and "SECRETKEY" not in text
    assert "prod-12.westeurope.logic.azure.com" in text


def test_setting_names_are_unique_and_prefixed() -> None:
    names = [spec.name for spec in SETTING_SPECS]
    assert len(names) == len(set(names)) == len(SETTING_NAMES)
    assert all(n.startswith("PULLWATCH_") or n == "AZURE_CLIENT_ID" for n in names)
