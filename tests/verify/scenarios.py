"""Realistic ARM objects for the verification scenarios, built from ``samples/azure-resources.json``.

The sample's shapes follow, field by field:

- container apps: the REST API specs' ``Microsoft.App`` examples (``ContainerApps_Get.json``,
  ``ContainerApps_CreateOrUpdate.json``, api-version 2025-01-01) plus the ``identity``
  (``ManagedServiceIdentity``: ``principalId``, ``userAssignedIdentities{id: {principalId,
  clientId}}``), ``configuration.registries`` (``server``, ``identity``, ``username``,
  ``passwordSecretRef``) and ``outboundIpAddresses`` of the same spec's definitions;
- managed environments: ``ManagedEnvironments_Get.json`` (``vnetConfiguration.
  infrastructureSubnetId``, ``internal``, ``staticIp``);
- registries: ``Microsoft.ContainerRegistry`` ``RegistryGet.json`` (2025-04-01:
  ``loginServer``, ``adminUserEnabled``, ``networkRuleSet{defaultAction, ipRules[{action,
  value}]}``, ``privateEndpointConnections``, ``publicNetworkAccess``, ``anonymousPullEnabled``)
  and ``roleAssignmentMode`` (``LegacyRegistryPermissions`` | ``AbacRepositoryPermissions``);
- private endpoints, private DNS zones and their virtual network links: the
  ``Microsoft.Network`` examples (``subnet.id``, ``privateLinkServiceConnections[].properties.
  privateLinkServiceId``, ``virtualNetwork.id``);
- role assignments: ``Microsoft.Authorization`` ``RoleAssignments_Get`` (``roleDefinitionId``,
  ``principalId``, ``principalType``, ``scope``, ``createdOn``, ``condition``), as Resource
  Graph's ``authorizationresources`` holds them (lower-case ``type``).

Every scenario starts from the sample (where that app is configured right unless the demo shows
a finding) and changes one thing, so a test shows both the finding firing and staying silent.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "azure-resources.json"
SUBSCRIPTION = "6f1e2d3c-4b5a-4978-8a1b-2c3d4e5f6a7b"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
REPOSITORY_READER = "b93aa761-3e63-49ed-ac28-beffa264f7ac"
LAST_FAILURE = datetime(2026, 11, 29, 8, 54, tzinfo=UTC)
CHECKED_AT = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)

Objects = list[dict[str, Any]]


def sample() -> Objects:
    objects: Objects = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return copy.deepcopy(objects)


def named(objects: Objects, name: str) -> dict[str, Any]:
    return next(o for o in objects if o["name"] == name)


def rg_id(group: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}"


def assignment(
    principal: str,
    scope: str,
    role: str = ACR_PULL,
    created: str = "2026-01-01T00:00:00Z",
    condition: str | None = None,
) -> dict[str, Any]:
    digest = hashlib.sha256(f"{principal}{scope}{role}{created}".encode()).hexdigest()
    guid = f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}",
        "name": guid,
        "type": "microsoft.authorization/roleassignments",
        "subscriptionId": SUBSCRIPTION,
        "resourceGroup": "",
        "properties": {
            "roleDefinitionId": f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{role}",
            "principalId": principal,
            "principalType": "ServicePrincipal",
            "scope": scope,
            "createdOn": created,
            "condition": condition,
            "conditionVersion": "2.0" if condition else None,
        },
    }


def without(objects: Objects, predicate: Callable[[dict[str, Any]], bool]) -> Objects:
    return [o for o in objects if not predicate(o)]


def principal_of(app: dict[str, Any]) -> str:
    identity = app["identity"]
    if identity.get("principalId"):
        return str(identity["principalId"])
    return str(next(iter(identity["userAssignedIdentities"].values()))["principalId"])
