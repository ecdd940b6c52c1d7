"""Flex Consumption's own rules: site properties it rejects, its instance-count range, its regions.

Each list here is transcribed from the Microsoft source named next to it, so a test fails when the
Bicep drifts from what Flex Consumption accepts (the deployment itself cannot run here).
"""

from __future__ import annotations

from typing import Any

import pytest
from pycep import BicepParser

from tests.infra.conftest import INFRA, REPO

Json = dict[str, Any]

# Site properties and app settings listed under "Flex Consumption plan deprecations"
# (https://learn.microsoft.com/azure/azure-functions/functions-app-settings#flex-consumption-plan-deprecations,
# revision of 2025-12-22), plus the siteConfig names quoted verbatim in ARM error 51021 reports
# (microsoft/azure-pipelines-tasks#21032: FtpsState, Use32BitWorkerProcess, NetFrameworkVersion,
# FunctionsRuntimeScaleMonitoringEnabled; Azure/terraform-azurerm-avm-res-web-site#345:
# LinuxFxVersion). Compared case-insensitively: ARM property names are.
_SITE_PROPERTY_TABLE = """
    alwaysOn containerSize dnsConfiguration ftpsState isReserved IsXenon javaVersion LinuxFxVersion
    netFrameworkVersion powerShellVersion functionAppScaleLimit preWarmedInstanceCount
    use32BitWorkerProcess vnetBackupRestoreEnabled vnetContentShareEnabled vnetImagePullEnabled
    vnetRouteAllEnabled windowsFxVersion functionsRuntimeScaleMonitoringEnabled
"""
_APP_SETTING_TABLE = """
    ENABLE_ORYX_BUILD FUNCTIONS_EXTENSION_VERSION FUNCTIONS_WORKER_RUNTIME
    FUNCTIONS_WORKER_RUNTIME_VERSION FUNCTIONS_MAX_HTTP_CONCURRENCY FUNCTIONS_WORKER_PROCESS_COUNT
    FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED SCM_DO_BUILD_DURING_DEPLOYMENT
    WEBSITE_CONTENTAZUREFILECONNECTIONSTRING WEBSITE_CONTENTOVERVNET WEBSITE_CONTENTSHARE
    WEBSITE_DNS_SERVER WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT WEBSITE_NODE_DEFAULT_VERSION
    WEBSITE_RUN_FROM_PACKAGE WEBSITE_SKIP_CONTENTSHARE_VALIDATION WEBSITE_VNET_ROUTE_ALL
"""
FLEX_REJECTED_SITE_PROPERTIES = frozenset(name.lower() for name in _SITE_PROPERTY_TABLE.split())
FLEX_REJECTED_APP_SETTINGS = frozenset(_APP_SETTING_TABLE.split())

# Regions with Flex Consumption in the @allowed list of Microsoft's Flex azd templates
# (Azure-Samples/functions-quickstart-dotnet-azd infra/main.bicep at commit 9633052, 2026-02-21;
# identical in functions-quickstart-python-azd-timer and functions-quickstart-python-http-azd).
_REGION_TABLE = """
    australiaeast australiasoutheast brazilsouth canadacentral centralindia centralus eastasia
    eastus eastus2 eastus2euap francecentral germanywestcentral italynorth japaneast koreacentral
    northcentralus northeurope norwayeast southafricanorth southcentralus southeastasia southindia
    spaincentral swedencentral uaenorth uksouth ukwest westcentralus westeurope westus westus2
    westus3
"""
MICROSOFT_FLEX_REGIONS_2026_02_21 = _REGION_TABLE.split()


def _function_app(tree: Json) -> Json:
    return tree["resources"]["functionApp"]["config"]  # type: ignore[no-any-return]


def flex_rejected(tree: Json) -> list[str]:
    """Rejected site properties (under properties and properties.siteConfig) and app settings."""
    properties = _function_app(tree)["properties"]
    found = [
        f"properties.{key}" for key in properties if key.lower() in FLEX_REJECTED_SITE_PROPERTIES
    ]
    found += [
        f"properties.siteConfig.{key}"
        for key in properties.get("siteConfig", {})
        if key.lower() in FLEX_REJECTED_SITE_PROPERTIES
    ]
    source = str(tree["variables"])
    found += [f"app setting {name}" for name in FLEX_REJECTED_APP_SETTINGS if f"'{name}'" in source]
    return found


def test_the_function_app_sets_no_property_flex_consumption_rejects(
    bicep_json: dict[str, Json],
) -> None:
    assert flex_rejected(bicep_json["app/function.bicep"]) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "      minTlsVersion: '1.2'\n",
            "      minTlsVersion: '1.2'\n      ftpsState: 'Disabled'\n",
            "properties.siteConfig.ftpsState",
            id="ftpsState",
        ),
        pytest.param(
            "      minTlsVersion: '1.2'\n",
            "      minTlsVersion: '1.2'\n      alwaysOn: false\n",
            "properties.siteConfig.alwaysOn",
            id="alwaysOn",
        ),
        pytest.param(
            "    httpsOnly: true\n",
            "    httpsOnly: true\n    vnetRouteAllEnabled: true\n",
            "properties.vnetRouteAllEnabled",
            id="site-level",
        ),
        pytest.param(
            "  { name: 'PULLWATCH_TABLE', value: table }\n",
            "  { name: 'PULLWATCH_TABLE', value: table }\n"
            "  { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'python' }\n",
            "app setting FUNCTIONS_WORKER_RUNTIME",
            id="app-setting",
        ),
    ],
)
def test_a_seeded_rejected_property_is_reported(old: str, new: str, expected: str) -> None:
    source = (INFRA / "app" / "function.bicep").read_text()
    assert old in source, "the seed no longer matches the file: update the test"
    tree = BicepParser().parse(text=source.replace(old, new, 1))
    assert flex_rejected(tree) == [expected]


def test_maximum_instance_count_is_within_what_flex_accepts(bicep_json: dict[str, Json]) -> None:
    param = bicep_json["app/function.bicep"]["parameters"]["maximumInstanceCount"]
    bounds = {d["type"]: d["argument"] for d in param["decorators"] if "value" in d["type"]}
    assert bounds == {"min_value": 40, "max_value": 1000}
    assert 40 <= param["default"] <= 1000


def test_location_allows_only_microsofts_flex_regions(bicep_json: dict[str, Json]) -> None:
    param = bicep_json["main.bicep"]["parameters"]["location"]
    decorators = {d["type"]: d["argument"] for d in param["decorators"]}
    assert decorators["allowed"] == MICROSOFT_FLEX_REGIONS_2026_02_21
    assert decorators["metadata"] == {"azd": {"type": "location"}}  # azd offers only these


def test_the_region_list_names_its_source_and_date() -> None:
    source = (INFRA / "main.bicep").read_text()
    assert "2026-02-21" in source
    assert "az functionapp list-flexconsumption-locations" in source
    guide = (REPO / "docs" / "deploy.md").read_text()
    assert "az functionapp list-flexconsumption-locations" in guide
