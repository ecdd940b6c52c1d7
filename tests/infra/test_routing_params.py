"""Bicep for routing and PagerDuty: routing keys as a Key Vault secret behind a versionless
reference (like the webhooks), PULLWATCH_ROUTES and the events URL as plain optional settings."""

from __future__ import annotations

import json
import re
from typing import Any

from pullwatch.settings import SETTING_SPECS
from tests.infra.conftest import INFRA

Json = dict[str, Any]
SECRET = {spec.name for spec in SETTING_SPECS if spec.secret}


def _setting(bicep_json: dict[str, Json], variable: str) -> Json:
    """The ``{name, value}`` of a conditional one-setting variable in function.bicep."""
    value = bicep_json["app/function.bicep"]["variables"][variable]["value"]
    operands = value["operator"]["operands"]
    assert operands["condition"]["function"]["type"] == "empty"  # only when given
    assert operands["true_value"] == []
    (entry,) = operands["false_value"]
    assert isinstance(entry, dict)
    return entry


def test_routing_keys_are_a_secure_parameter_stored_in_key_vault(
    bicep_json: dict[str, Json],
) -> None:
    for file in ("main.bicep", "app/keyvault.bicep"):
        param = bicep_json[file]["parameters"]["pagerDutyRoutingKeys"]
        assert {"type": "secure"} in param["decorators"] and param["default"] == "", file
    module = bicep_json["app/keyvault.bicep"]["modules"]["pagerDutySecret"]
    assert "condition" in module["config"]  # written only when given
    uri = bicep_json["app/keyvault.bicep"]["outputs"]["pagerDutyRoutingKeysUri"]["value"]
    assert re.fullmatch(r"\$\{vault\.properties\.vaultUri\}secrets/\$\{\w+\}/", uri)  # versionless
    outputs = bicep_json["main.bicep"]["outputs"]
    assert "KEY_VAULT_PAGERDUTY_SECRET_NAME" in outputs


def test_routing_keys_setting_is_a_key_vault_reference(bicep_json: dict[str, Json]) -> None:
    entry = _setting(bicep_json, "pagerDutySetting")
    assert entry["name"] == "PULLWATCH_PAGERDUTY_ROUTING_KEYS" and entry["name"] in SECRET
    assert re.fullmatch(r"@Microsoft\.KeyVault\(SecretUri=\$\{\w+\}\)", entry["value"])
    params = bicep_json["main.bicep"]["modules"]["functionApp"]["config"]["params"]
    given = json.dumps(params["pagerDutyRoutingKeysVaultUri"])
    assert "pagerDutyRoutingKeysUri" in given and "pagerDutyRoutingKeys" in given


def test_routes_and_events_url_are_plain_optional_settings(bicep_json: dict[str, Json]) -> None:
    assert _setting(bicep_json, "routesSetting") == {"name": "PULLWATCH_ROUTES", "value": "routes"}
    assert _setting(bicep_json, "pagerDutyUrlSetting") == {
        "name": "PULLWATCH_PAGERDUTY_EVENTS_URL",
        "value": "pagerDutyEventsUrl",
    }
    assert not {"PULLWATCH_ROUTES", "PULLWATCH_PAGERDUTY_EVENTS_URL"} & SECRET
    main = bicep_json["main.bicep"]["parameters"]
    for name in ("routes", "pagerDutyEventsUrl"):
        assert main[name]["default"] == "" and {"type": "secure"} not in main[name]["decorators"]
    app_settings = json.dumps(bicep_json["app/function.bicep"]["variables"]["appSettings"])
    for variable in ("pagerDutySetting", "pagerDutyUrlSetting", "routesSetting"):
        assert variable in app_settings, variable


def test_parameters_file_passes_the_new_values_from_the_environment() -> None:
    given = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert given["pagerDutyRoutingKeys"]["value"] == "${PULLWATCH_PAGERDUTY_ROUTING_KEYS=}"
    assert given["pagerDutyEventsUrl"]["value"] == "${PULLWATCH_PAGERDUTY_EVENTS_URL=}"
    assert given["routes"]["value"] == "${PULLWATCH_ROUTES=}"
