"""Structural assertions on the parsed Bicep (pycep-parser): what gets deployed and how it is wired.

These are the properties an operator relies on: Flex Consumption, identity everywhere and no keys,
least-privilege roles on single resources, app settings named exactly as the settings module
reads them, and no secret in the repository.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from pullwatch.settings import SETTING_NAMES, SETTING_SPECS, TableMode
from tests.infra.conftest import INFRA, REPO

Json = dict[str, Any]

# The API versions this deployment is written against (all exist; see issue 7).
API_VERSIONS = {
    "Microsoft.Web/sites": "2024-04-01",
    "Microsoft.Web/serverfarms": "2024-04-01",
    "Microsoft.Storage/storageAccounts": "2023-05-01",
    "Microsoft.Storage/storageAccounts/blobServices": "2023-05-01",
    "Microsoft.Storage/storageAccounts/blobServices/containers": "2023-05-01",
    "Microsoft.KeyVault/vaults": "2023-07-01",
    "Microsoft.KeyVault/vaults/secrets": "2023-07-01",
    "Microsoft.Insights/components": "2020-02-02",
    "Microsoft.OperationalInsights/workspaces": "2023-09-01",
    "Microsoft.ManagedIdentity/userAssignedIdentities": "2023-01-31",
    "Microsoft.Authorization/roleAssignments": "2022-04-01",
    "Microsoft.Insights/actionGroups": "2023-01-01",
    "Microsoft.Insights/scheduledQueryRules": "2023-12-01",
}

# Built-in role definition ids (../shared/reference/platform-facts.md §7).
LOG_ANALYTICS_READER = "73c42c96-874c-492b-b04d-ab87d138a893"
LOG_ANALYTICS_DATA_READER = "3b03c2da-16b3-4a49-8834-0f8130efdd3b"
STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"

# Reader for the configuration check, at the scope each module is deployed to (test_verify_scopes.py):
# file -> its target scope.
VERIFY_READER_FILES = {
    "app/verify-reader.bicep": "resourceGroup",
    "app/verify-reader-subscription.bicep": "subscription",
}

# file -> {role id: type of the resource the assignment is scoped to}
EXPECTED_ROLES = {
    "app/roles.bicep": {
        STORAGE_BLOB_DATA_OWNER: "Microsoft.Storage/storageAccounts",
        KEY_VAULT_SECRETS_USER: "Microsoft.KeyVault/vaults",
        MONITORING_METRICS_PUBLISHER: "Microsoft.Insights/components",
    },
    "app/workspace-role.bicep": {  # one or the other, by logAnalyticsAccess (test_workspace_access)
        LOG_ANALYTICS_DATA_READER: "Microsoft.OperationalInsights/workspaces",
        LOG_ANALYTICS_READER: "Microsoft.OperationalInsights/workspaces",
    },
}

# The settings the function needs from the deployment (set in every deployment) ...
REQUIRED_SETTINGS = {
    "AZURE_CLIENT_ID",
    "PULLWATCH_WORKSPACE_IDS",
    "PULLWATCH_LEDGER_ACCOUNT_URL",
    "PULLWATCH_LEDGER_CONTAINER",
    "PULLWATCH_LEDGER_BLOB",
    "PULLWATCH_TABLE",
    "PULLWATCH_SCHEDULE",
    "PULLWATCH_LOOKBACK",
    "PULLWATCH_REPEAT_INTERVAL",
}
# ... and those set only when their parameter is given.
WEBHOOK_SETTINGS = {
    "PULLWATCH_TEAMS_WEBHOOK_URLS",
    "PULLWATCH_SLACK_WEBHOOK_URLS",
    "PULLWATCH_WEBHOOK_URLS",
}
FORBIDDEN_SETTINGS = {
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_EXTENSION_VERSION",
    "WEBSITE_RUN_FROM_PACKAGE",
    "WEBSITE_TIME_ZONE",
    "AzureWebJobsStorage",  # a connection string: keys
    "APPINSIGHTS_INSTRUMENTATIONKEY",
    "PULLWATCH_LEDGER_CONNECTION_STRING",
}


def _nodes(tree: Any) -> Iterator[Any]:
    yield tree
    if isinstance(tree, dict):
        for value in tree.values():
            yield from _nodes(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _nodes(value)


def _body(resource: Json) -> Json:
    """A resource's or module's body, looking through `if (...)` conditions."""
    config: Json = resource["config"]
    while "condition" in config and "config" in config:
        config = config["config"]
    return config


def _resources(bicep_json: dict[str, Json]) -> Iterator[tuple[str, str, Json]]:
    for file, tree in bicep_json.items():
        for symbol, resource in tree.get("resources", {}).items():
            yield file, symbol, resource


def _resource(bicep_json: dict[str, Json], file: str, symbol: str) -> Json:
    return bicep_json[file]["resources"][symbol]


def _app_settings(bicep_json: dict[str, Json]) -> dict[str, Any]:
    """name -> value of every `{ name, value }` entry in the function module's variables."""
    variables = bicep_json["app/function.bicep"]["variables"]
    return {
        node["name"]: node["value"]
        for node in _nodes(variables)
        if isinstance(node, dict)
        and set(node) == {"name", "value"}
        and isinstance(node["name"], str)
    }


# --- resource types and API versions -------------------------------------------------------------


def test_every_resource_uses_a_known_type_and_api_version(bicep_json: dict[str, Json]) -> None:
    seen = set()
    for file, symbol, resource in _resources(bicep_json):
        assert resource["type"] in API_VERSIONS, f"{file}:{symbol} {resource['type']}"
        assert resource["api_version"] == API_VERSIONS[resource["type"]], f"{file}:{symbol}"
        seen.add(resource["type"])
    assert seen == set(API_VERSIONS)


def test_nothing_is_deployed_at_subscription_scope_unless_listed(
    bicep_json: dict[str, Json],
) -> None:
    """Only Reader for the configuration check, only on a subscription id given in verifyScopes
    (test_verify_scopes.py: empty by default)."""
    for file, tree in bicep_json.items():
        scope = tree["globals"].get("scope", {}).get("value", "resourceGroup")
        assert scope == VERIFY_READER_FILES.get(file, "resourceGroup"), file
    scope_lines = [
        (path.relative_to(INFRA).as_posix(), line.strip())
        for path in INFRA.rglob("*.bicep")
        for line in path.read_text().splitlines()
        if "scope:" in line and "subscription(" in line
    ]
    assert scope_lines == [("main.bicep", "scope: subscription(split(scopeId, '/')[2])")]


# --- function app and plan -----------------------------------------------------------------------


def test_plan_is_flex_consumption(bicep_json: dict[str, Json]) -> None:
    plan = _body(_resource(bicep_json, "app/function.bicep", "plan"))
    assert plan["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    assert plan["properties"]["reserved"] is True


def test_function_app_is_linux_python_311_on_flex(bicep_json: dict[str, Json]) -> None:
    app = _body(_resource(bicep_json, "app/function.bicep", "functionApp"))
    assert app["kind"] == "functionapp,linux"
    assert app["identity"]["type"] == "UserAssigned"
    properties = app["properties"]
    assert properties["httpsOnly"] is True
    assert properties["keyVaultReferenceIdentity"] == "identityId"
    config = properties["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "3.11"}
    storage = config["deployment"]["storage"]
    assert storage["type"] == "blobContainer"
    assert storage["authentication"] == {
        "type": "UserAssignedIdentity",
        "userAssignedIdentityResourceId": "identityId",
    }
    assert config["scaleAndConcurrency"] == {
        "instanceMemoryMB": "instanceMemoryMB",
        "maximumInstanceCount": "maximumInstanceCount",
    }
    params = bicep_json["app/function.bicep"]["parameters"]
    assert params["instanceMemoryMB"]["default"] == 2048
    assert 40 <= params["maximumInstanceCount"]["default"] <= 1000
    assert properties["siteConfig"]["appSettings"] == "appSettings"


def test_no_forbidden_or_key_based_setting_anywhere() -> None:
    text = "\n".join(path.read_text() for path in INFRA.rglob("*.bicep"))
    for name in FORBIDDEN_SETTINGS:
        # as a quoted setting name or as an object key
        assert not re.search(rf"'{name}'|^\s*{name}\s*:", text, re.MULTILINE), name
    assert "listKeys" not in text
    assert "AccountKey=" not in text
    assert "InstrumentationKey" not in text
    assert "connectionString(" not in text


def test_host_storage_uses_the_identity(bicep_json: dict[str, Json]) -> None:
    settings = _app_settings(bicep_json)
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert settings["AzureWebJobsStorage__clientId"] == "identityClientId"
    assert settings["AzureWebJobsStorage__blobServiceUri"] == "storageBlobEndpoint"
    assert "AzureWebJobsStorage" not in settings


def test_telemetry_uses_entra_authentication(bicep_json: dict[str, Json]) -> None:
    settings = _app_settings(bicep_json)
    assert (
        settings["APPLICATIONINSIGHTS_CONNECTION_STRING"] == "applicationInsightsConnectionString"
    )
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == (
        "ClientId=${identityClientId};Authorization=AAD"
    )
    assert settings["AZURE_CLIENT_ID"] == "identityClientId"
    insights = _body(_resource(bicep_json, "app/monitoring.bicep", "applicationInsights"))
    assert insights["properties"]["DisableLocalAuth"] is True
    workspace = _body(_resource(bicep_json, "app/monitoring.bicep", "telemetryWorkspace"))
    assert workspace["properties"]["features"]["disableLocalAuth"] is True


# --- app setting names = pullwatch.settings ------------------------------------------------------


def test_app_setting_names_are_those_of_the_settings_module(bicep_json: dict[str, Json]) -> None:
    ours = {
        name
        for name in _app_settings(bicep_json)
        if name.startswith("PULLWATCH_") or name == "AZURE_CLIENT_ID"
    }
    assert ours <= SETTING_NAMES, ours - SETTING_NAMES
    assert ours >= REQUIRED_SETTINGS | WEBHOOK_SETTINGS


def test_webhook_settings_are_versionless_key_vault_references(bicep_json: dict[str, Json]) -> None:
    settings = _app_settings(bicep_json)
    secret = {spec.name for spec in SETTING_SPECS if spec.secret}
    assert secret >= WEBHOOK_SETTINGS
    for name in WEBHOOK_SETTINGS:
        assert re.fullmatch(r"@Microsoft\.KeyVault\(SecretUri=\$\{\w+\}\)", settings[name]), name
    outputs = bicep_json["app/keyvault.bicep"]["outputs"]
    uris = [outputs[f"{kind}WebhookUrlsUri"]["value"] for kind in ("teams", "slack", "generic")]
    for uri in uris:  # https://<vault>/secrets/<name>/ : no version segment
        assert re.fullmatch(r"\$\{vault\.properties\.vaultUri\}secrets/\$\{\w+\}/", uri), uri


def test_webhook_settings_and_secrets_exist_only_when_given(bicep_json: dict[str, Json]) -> None:
    variables = bicep_json["app/function.bicep"]["variables"]
    for variable in ("teamsSetting", "slackSetting", "genericSetting"):
        operands = variables[variable]["value"]["operator"]["operands"]
        assert operands["condition"]["function"]["type"] == "empty"
        assert operands["true_value"] == []
    modules = bicep_json["app/keyvault.bicep"]["modules"]
    for symbol in ("teamsSecret", "slackSecret", "genericSecret"):
        assert "condition" in modules[symbol]["config"], symbol


def test_bicep_defaults_match_the_settings_module(bicep_json: dict[str, Json]) -> None:
    params = bicep_json["main.bicep"]["parameters"]
    defaults = {spec.name: spec.default for spec in SETTING_SPECS}
    assert params["schedule"]["default"] == defaults["PULLWATCH_SCHEDULE"]
    assert params["lookback"]["default"] == defaults["PULLWATCH_LOOKBACK"]
    assert params["repeatInterval"]["default"] == defaults["PULLWATCH_REPEAT_INTERVAL"]
    assert params["table"]["default"] == defaults["PULLWATCH_TABLE"]
    allowed = next(d for d in params["table"]["decorators"] if d["type"] == "allowed")
    assert allowed["argument"] == [mode.value for mode in TableMode]
    main = bicep_json["main.bicep"]["variables"]
    assert main["ledgerContainerName"]["value"] == defaults["PULLWATCH_LEDGER_CONTAINER"]
    assert main["ledgerBlobName"]["value"] == defaults["PULLWATCH_LEDGER_BLOB"]


def test_webhook_parameters_are_secure_and_optional(bicep_json: dict[str, Json]) -> None:
    for file in ("main.bicep", "app/keyvault.bicep"):
        params = bicep_json[file]["parameters"]
        for name in ("teamsWebhookUrls", "slackWebhookUrls", "genericWebhookUrls"):
            assert {"type": "secure"} in params[name]["decorators"], f"{file}:{name}"
            assert params[name]["default"] == "", f"{file}:{name}"
    secret_value = bicep_json["app/keyvault-secret.bicep"]["parameters"]["value"]
    assert {"type": "secure"} in secret_value["decorators"]


def test_workspace_ids_come_from_the_existing_workspace(bicep_json: dict[str, Json]) -> None:
    main = bicep_json["main.bicep"]
    workspace = main["resources"]["watchedWorkspace"]
    assert workspace["existing"] is True
    assert workspace["type"] == "Microsoft.OperationalInsights/workspaces"
    scope = workspace["config"]["scope"]["function"]
    assert scope["type"] == "resource_group"
    params = main["modules"]["functionApp"]["config"]["params"]
    accessor = params["workspaceIds"]["operator"]["operands"]
    assert accessor["operand_1"] == "watchedWorkspace"
    assert accessor["operand_2"]["operator"]["operands"] == {
        "operand_1": "properties",
        "operand_2": "customerId",
    }


# --- storage and key vault -----------------------------------------------------------------------


def test_storage_account_is_identity_only(bicep_json: dict[str, Json]) -> None:
    properties = _body(_resource(bicep_json, "app/storage.bicep", "storage"))["properties"]
    assert properties["allowSharedKeyAccess"] is False
    assert properties["allowBlobPublicAccess"] is False
    assert properties["minimumTlsVersion"] == "TLS1_2"
    assert properties["supportsHttpsTrafficOnly"] is True


def test_storage_has_the_deployment_and_ledger_containers(bicep_json: dict[str, Json]) -> None:
    resources = bicep_json["app/storage.bicep"]["resources"]
    containers = {
        _body(resource)["name"]
        for resource in resources.values()
        if resource["type"].endswith("/containers")
    }
    assert containers == {"deploymentContainerName", "ledgerContainerName"}
    for resource in resources.values():
        if resource["type"].endswith("/containers"):
            assert _body(resource)["properties"]["publicAccess"] == "None"


def test_key_vault_is_rbac_with_soft_delete_and_purge_protection(
    bicep_json: dict[str, Json],
) -> None:
    properties = _body(_resource(bicep_json, "app/keyvault.bicep", "vault"))["properties"]
    assert properties["enableRbacAuthorization"] is True
    assert properties["enableSoftDelete"] is True
    assert properties["enablePurgeProtection"] is True
    assert properties["softDeleteRetentionInDays"] >= 7
    secret = _body(_resource(bicep_json, "app/keyvault-secret.bicep", "secret"))
    assert secret["properties"]["contentType"]
    assert secret["properties"]["value"] == "value"


# --- roles ---------------------------------------------------------------------------------------


def _role_assignments(bicep_json: dict[str, Json]) -> Iterator[tuple[str, str, Json]]:
    for file, symbol, resource in _resources(bicep_json):
        if resource["type"] == "Microsoft.Authorization/roleAssignments":
            yield file, symbol, resource


def test_role_assignments_are_the_expected_roles_on_single_resources(
    bicep_json: dict[str, Json],
) -> None:
    found: dict[str, dict[str, str]] = {}
    for file, symbol, resource in _role_assignments(bicep_json):
        if file in VERIFY_READER_FILES:
            continue  # on a resource group or subscription the deployer lists (verifyScopes)
        tree = bicep_json[file]
        body = _body(resource)
        role_var = body["properties"]["roleDefinitionId"]["function"]["parameters"][
            "resource_name_1"
        ]
        role_id = tree["variables"][role_var]["value"]
        scope_symbol = body["scope"]
        assert isinstance(scope_symbol, str), f"{file}:{symbol} has no single-resource scope"
        scope = tree["resources"][scope_symbol]
        assert scope["existing"] is True, f"{file}:{symbol}"
        found.setdefault(file, {})[role_id] = scope["type"]
        assert body["properties"]["principalType"] == "ServicePrincipal"
        # deterministic name: guid(<scope>.id, principalId, <role>)
        guid = body["name"]["function"]
        assert guid["type"] == "guid"
        assert list(guid["parameters"].values())[1:] == ["principalId", role_var]
    assert found == EXPECTED_ROLES


def test_role_ids_are_named_commented_variables() -> None:
    for file in EXPECTED_ROLES:
        lines = (INFRA / file).read_text().splitlines()
        for number, line in enumerate(lines):
            if re.match(r"var \w+RoleId = '", line):
                assert lines[number - 1].startswith("//"), f"{file}:{number + 1} lacks a comment"
        for number, line in enumerate(lines):
            if line.startswith("resource ") and "roleAssignments" in line:
                assert lines[number - 1].startswith("//"), f"{file}:{number + 1}: say why"


def test_workspace_role_module_is_scoped_to_the_workspace_resource_group(
    bicep_json: dict[str, Json],
) -> None:
    module = bicep_json["main.bicep"]["modules"]["workspaceRole"]
    assert module["detail"]["path"] == "app/workspace-role.bicep"
    scope = module["config"]["scope"]["function"]
    assert scope["type"] == "resource_group"
    assert set(scope["parameters"].values()) == {
        "workspaceSubscriptionId",
        "workspaceResourceGroupName",
    }
    variables = bicep_json["main.bicep"]["variables"]
    assert "logAnalyticsWorkspaceId" in str(variables["workspaceIdSegments"])


def test_the_app_waits_for_its_roles(bicep_json: dict[str, Json]) -> None:
    module = bicep_json["main.bicep"]["modules"]["functionApp"]
    assert set(module["config"]["dependsOn"]) == {"roles", "workspaceRole"}


# --- outputs and no secrets ----------------------------------------------------------------------


def test_outputs_for_azd(bicep_json: dict[str, Json]) -> None:
    outputs = bicep_json["main.bicep"]["outputs"]
    assert {
        "AZURE_LOCATION",
        "AZURE_TENANT_ID",
        "AZURE_RESOURCE_GROUP",
        "AZURE_FUNCTION_APP_NAME",
        "AZURE_KEY_VAULT_NAME",
        "AZURE_STORAGE_ACCOUNT_NAME",
    } <= set(outputs)
    secure = {
        name
        for name, param in bicep_json["main.bicep"]["parameters"].items()
        if {"type": "secure"} in param["decorators"]
    }
    for name, output in outputs.items():
        assert not any(param in str(output["value"]) for param in secure), name


SECRET_PATTERNS = {
    "Teams/Logic Apps webhook": re.compile(
        r"https://[^\s'\"]*logic\.azure\.com[^\s'\"]*sig=[\w%-]{8,}"
    ),
    "Power Automate webhook": re.compile(
        r"https://[^\s'\"]*powerplatform\.com[^\s'\"]*sig=[\w%-]{8,}"
    ),
    "Slack webhook": re.compile(r"hooks\.slack\.com/services/T\w+/B\w+/\w+"),
    "SAS signature": re.compile(r"[?&]sig=[\w%-]{8,}"),
    "storage key": re.compile(r"AccountKey=[A-Za-z0-9+/=]{20,}"),
    "instrumentation key": re.compile(r"InstrumentationKey=[0-9a-f-]{36}"),
    "client secret": re.compile(r"(?i)client_?secret['\"]?\s*[:=]\s*['\"][^'\"]{8,}"),
}
SCANNED = [
    *sorted(INFRA.rglob("*.bicep")),
    INFRA / "main.parameters.json",
    REPO / "azure.yaml",
    REPO / "docs" / "deploy.md",
    REPO / ".github" / "workflows" / "ci.yml",
]


def _secrets_in(text: str) -> list[str]:
    return [kind for kind, pattern in SECRET_PATTERNS.items() if pattern.search(text)]


@pytest.mark.parametrize("path", SCANNED, ids=[p.relative_to(REPO).as_posix() for p in SCANNED])
def test_no_secret_literal(path: Any) -> None:
    assert path.exists(), path
    assert _secrets_in(path.read_text()) == []


@pytest.mark.parametrize(
    "leak",
    [
        "https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke"
        "?api-version=2016-06-01&sp=%2Ftriggers&sv=1.0&sig=AbCdEfGhIjKlMnOp",
        "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXX",
        "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=" + "A" * 40,
    ],
)
def test_the_secret_scan_catches_a_seeded_literal(leak: str) -> None:
    source = (INFRA / "main.bicep").read_text()
    assert _secrets_in(source + f"\nvar leaked = '{leak}'\n")
