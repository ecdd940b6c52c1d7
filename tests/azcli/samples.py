"""What Azure answers to the catalog's commands, for checking their ``--query`` paths.

Each entry is a REST response body (as Azure returns it) and how the Azure CLI turns it into
its output: as received, for commands that call the REST API directly and print its JSON (``rest``:
the containerapp module's ``job`` commands; the REST reference is the only schema, so these
documents follow learn.microsoft.com/rest/api/containerapps/jobs and .../jobs-executions);
through the SDK model it deserializes into (``typespec``: ``todict`` of the model;
``msrest``: ``todict`` of the deserialized model), through the model's own round trip for the
containerapp module, which prints the REST JSON (``arm``; unknown fields are dropped), or through
the AAZ command's response schema (``aaz``). A field the model does not know vanishes, so a
misspelt ``--query`` path (or a misspelt field here) yields nothing and the check fails.

The documents follow the facts ``tests/classifiers/test_steps.py`` renders the steps with
(registry myacr.azurecr.io, images of that registry, ghcr.io and docker.io).
"""

from __future__ import annotations

from typing import Any

_SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-shop"
_APP_ID = _SUB + "/providers/Microsoft.App/containerApps/api"
_IDENTITY_ID = _SUB + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-api"
_SUBNET_ID = _SUB + "/providers/Microsoft.Network/virtualNetworks/vnet-shop/subnets/aca"
_JOB_ID = _SUB + "/providers/Microsoft.App/jobs/nightly-reports"
_JOB_REGISTRIES = [
    {"server": "myacr.azurecr.io", "identity": "system"},
    {"server": "ghcr.io", "username": "acme", "passwordSecretRef": "ghcrio-acme"},
]
_JOB_IDENTITY = {
    "type": "SystemAssigned",
    "principalId": "55555555-5555-5555-5555-555555555555",
    "tenantId": "22222222-2222-2222-2222-222222222222",
}
_WORKSPACE_ID = _SUB + "/providers/Microsoft.OperationalInsights/workspaces/log-shop"
_WORKSPACE_CUSTOMER_ID = "6b1f2c3d-0000-4000-8000-000000000001"
_IMAGES = (
    "myacr.azurecr.io/orders/api:1.4.2",
    "ghcr.io/acme/worker:v9",
    "docker.io/library/nginx:1.27",
    "nginx:1.27",
)

# command -> (style, model "module:Class" or None, REST document)
SAMPLES: dict[str, tuple[str, str | None, Any]] = {
    "acr show": (
        "typespec",
        "azure.mgmt.containerregistry.models:Registry",
        {
            "id": _SUB + "/providers/Microsoft.ContainerRegistry/registries/myacr",
            "name": "myacr",
            "location": "westeurope",
            "sku": {"name": "Premium", "tier": "Premium"},
            "properties": {
                "loginServer": "myacr.azurecr.io",
                "adminUserEnabled": False,
                "publicNetworkAccess": "Enabled",
                "roleAssignmentMode": "AbacRepositoryPermissions",
                "policies": {"azureADAuthenticationAsArmPolicy": {"status": "enabled"}},
                "networkRuleSet": {
                    "defaultAction": "Deny",
                    "ipRules": [{"action": "Allow", "value": "20.61.4.17"}],
                },
            },
        },
    ),
    "acr credential show": (
        "typespec",
        "azure.mgmt.containerregistry.models:RegistryListCredentialsResult",
        {
            "username": "myacr",
            "passwords": [{"name": "password", "value": "x"}, {"name": "password2", "value": "y"}],
        },
    ),
    "containerapp registry list": (
        "arm-list",
        "azure.mgmt.appcontainers.models:RegistryCredentials",
        [
            {"server": "myacr.azurecr.io", "identity": _IDENTITY_ID},
            {"server": "ghcr.io", "username": "acme", "passwordSecretRef": "ghcrio-acme"},
            {"server": "docker.io", "username": "acme", "passwordSecretRef": "dockerio-acme"},
        ],
    ),
    "containerapp identity show": (
        "arm",
        "azure.mgmt.appcontainers.models:ManagedServiceIdentity",
        {
            "type": "SystemAssigned,UserAssigned",
            "principalId": "11111111-1111-1111-1111-111111111111",
            "tenantId": "22222222-2222-2222-2222-222222222222",
            "userAssignedIdentities": {
                _IDENTITY_ID: {
                    "principalId": "33333333-3333-3333-3333-333333333333",
                    "clientId": "44444444-4444-4444-4444-444444444444",
                }
            },
        },
    ),
    "containerapp show": (
        "arm",
        "azure.mgmt.appcontainers.models:ContainerApp",
        {
            "id": _APP_ID,
            "name": "api",
            "location": "westeurope",
            "properties": {
                "environmentId": _SUB + "/providers/Microsoft.App/managedEnvironments/cae-shop",
                # read-only in the REST API (Job.properties.outboundIpAddresses)
                "outboundIpAddresses": ["20.61.4.17", "20.61.4.18"],
                "template": {
                    "initContainers": [{"name": "migrate", "image": _IMAGES[0]}],
                    "containers": [
                        {"name": f"c{number}", "image": image}
                        for number, image in enumerate(_IMAGES)
                    ],
                },
            },
        },
    ),
    "containerapp revision list": (
        "arm-list",
        "azure.mgmt.appcontainers.models:Revision",
        [
            {"name": "api--0000006", "properties": {"healthState": "Unhealthy", "active": True}},
            {"name": "api--0000005", "properties": {"healthState": "Healthy", "active": True}},
        ],
    ),
    "containerapp env show": (
        "arm",
        "azure.mgmt.appcontainers.models:ManagedEnvironment",
        {
            "name": "cae-shop",
            "location": "westeurope",
            "properties": {
                "vnetConfiguration": {"infrastructureSubnetId": _SUBNET_ID},
                "appLogsConfiguration": {
                    "destination": "log-analytics",
                    "logAnalyticsConfiguration": {"customerId": _WORKSPACE_CUSTOMER_ID},
                },
            },
        },
    ),
    "monitor log-analytics workspace show": (
        "aaz",
        None,
        {
            "id": _WORKSPACE_ID,
            "name": "log-shop",
            "location": "westeurope",
            "properties": {"customerId": _WORKSPACE_CUSTOMER_ID, "retentionInDays": 30},
        },
    ),
    "monitor log-analytics workspace list": (
        "aaz",
        None,
        [
            {
                "id": _WORKSPACE_ID,
                "name": "log-shop",
                "location": "westeurope",
                "properties": {"customerId": _WORKSPACE_CUSTOMER_ID, "retentionInDays": 30},
            }
        ],
    ),
    "identity show": (
        "msrest",
        "azure.mgmt.msi.models:Identity",
        {
            "id": _IDENTITY_ID,
            "name": "id-api",
            "location": "westeurope",
            "properties": {
                "principalId": "33333333-3333-3333-3333-333333333333",
                "clientId": "44444444-4444-4444-4444-444444444444",
                "tenantId": "22222222-2222-2222-2222-222222222222",
            },
        },
    ),
    "network vnet show": (
        "aaz",
        None,
        {
            "id": _SUB + "/providers/Microsoft.Network/virtualNetworks/vnet-shop",
            "name": "vnet-shop",
            "location": "westeurope",
            "properties": {"dhcpOptions": {"dnsServers": ["10.0.0.4"]}},
        },
    ),
    "network private-dns link vnet list": (
        "aaz",
        None,
        [
            {
                "name": "vnet-shop-link",
                "location": "global",
                "properties": {
                    "virtualNetwork": {
                        "id": _SUB + "/providers/Microsoft.Network/virtualNetworks/vnet-shop"
                    },
                    "registrationEnabled": False,
                    "virtualNetworkLinkState": "Completed",
                },
            }
        ],
    ),
    "network private-dns record-set a list": (
        "aaz",
        None,
        [
            {
                "name": "myacr",
                "properties": {"ttl": 10, "aRecords": [{"ipv4Address": "10.1.0.5"}]},
            },
            {
                "name": "myacr.westeurope.data",
                "properties": {"ttl": 10, "aRecords": [{"ipv4Address": "10.1.0.6"}]},
            },
        ],
    ),
    # the containerapp module's job commands print the REST JSON (Microsoft.App/jobs, 2024-03-01)
    "containerapp job show": (
        "rest",
        None,
        {
            "id": _JOB_ID,
            "name": "nightly-reports",
            "type": "Microsoft.App/jobs",
            "location": "westeurope",
            "identity": _JOB_IDENTITY,
            "properties": {
                "provisioningState": "Succeeded",
                "environmentId": _SUB + "/providers/Microsoft.App/managedEnvironments/cae-shop",
                # read-only in the REST API (Job.properties.outboundIpAddresses)
                "outboundIpAddresses": ["20.61.4.17", "20.61.4.18"],
                "configuration": {
                    "triggerType": "Schedule",
                    "replicaTimeout": 1800,
                    "replicaRetryLimit": 1,
                    "scheduleTriggerConfig": {
                        "cronExpression": "0 2 * * *",
                        "parallelism": 1,
                        "replicaCompletionCount": 1,
                    },
                    "registries": _JOB_REGISTRIES,
                },
                "template": {
                    "containers": [
                        {"name": f"c{number}", "image": image}
                        for number, image in enumerate(_IMAGES)
                    ],
                    "initContainers": [{"name": "migrate", "image": _IMAGES[0]}],
                },
            },
        },
    ),
    "containerapp job registry list": ("rest", None, _JOB_REGISTRIES),
    "containerapp job identity show": ("rest", None, _JOB_IDENTITY),
    "containerapp job execution list": (
        "rest",
        None,
        [
            {
                "id": _JOB_ID + "/executions/nightly-reports-q4w7n2c",
                "name": "nightly-reports-q4w7n2c",
                "type": "Microsoft.App/jobs/executions",
                "properties": {
                    "status": "Failed",
                    "startTime": "2026-11-29T02:00:01+00:00",
                    "endTime": "2026-11-29T02:30:02+00:00",
                    "template": {"containers": [{"name": "c0", "image": _IMAGES[0]}]},
                },
            },
        ],
    ),
}
