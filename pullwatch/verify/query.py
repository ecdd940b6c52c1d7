"""The one Resource Graph query of a tick: the apps about to be alerted on, their environments,
every container registry, the private endpoints and ``privatelink.azurecr.*`` DNS links that lead
to registries, and the pull-role assignments of the apps' identities. Pure.

Resource Graph allows one cross-table ``join`` per query and ``union`` only within ``Resources``
(learn.microsoft.com/azure/governance/resource-graph/concepts/query-language), so role
assignments come in through a ``leftouter`` join on the principal id: each resource row is
expanded once per principal id found in its ``identity`` (plus a ``-`` sentinel, so a resource
without identity keeps exactly one row), and gets the ``role*`` columns of a matching
assignment. ``snapshot.snapshot_from_rows`` folds the repeats back into one resource each.

Registries are not filtered by name: the app's own configuration names them, and an unknown
login server must be told apart from a missing one (``registry-not-found``).
"""

from __future__ import annotations

from collections.abc import Iterable

from pullwatch.verify.roles import PULL_ROLES
from pullwatch.verify.snapshot import (
    APP_TYPES,
    DNS_ZONE_TYPE,
    ENVIRONMENT_TYPE,
    PRIVATE_DNS_ZONE_PREFIX,
    PRIVATE_ENDPOINT_TYPE,
    REGISTRY_TYPE,
    ROLE_ASSIGNMENT_TYPE,
    VNET_LINK_TYPE,
)

RESOURCE_COLUMNS = (
    "id",
    "name",
    "type",
    "subscriptionId",
    "resourceGroup",
    "location",
    "sku",
    "identity",
    "properties",
)
ROLE_COLUMNS = (
    "rolePrincipalId",
    "roleAssignmentId",
    "roleDefinitionId",
    "roleScope",
    "roleCreatedOn",
    "roleCondition",
)
PRINCIPAL_PATTERN = r'"principalId":\s*"([^"]+)"'


def kql_string(value: str) -> str:
    """A KQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _list(values: Iterable[str]) -> str:
    unique = sorted({v.lower() for v in values if v})
    return ", ".join(kql_string(v) for v in unique) or "''"


def build_query(apps: Iterable[str], environments: Iterable[str]) -> str:
    """The query for these app (or job) names and environment names."""
    roles = " or ".join(f"roleDefinitionId endswith {kql_string(role.id)}" for role in PULL_ROLES)
    app_types = ", ".join(kql_string(t) for t in APP_TYPES)
    return f"""resources
| where (type in~ ({app_types}) and name in~ ({_list(apps)}))
    or (type =~ {kql_string(ENVIRONMENT_TYPE)} and name in~ ({_list(environments)}))
    or type =~ {kql_string(REGISTRY_TYPE)}
    or (type =~ {kql_string(PRIVATE_ENDPOINT_TYPE)} and tostring(properties) contains {kql_string(REGISTRY_TYPE)})
    or (type =~ {kql_string(DNS_ZONE_TYPE)} and name startswith {kql_string(PRIVATE_DNS_ZONE_PREFIX)})
    or (type =~ {kql_string(VNET_LINK_TYPE)} and id contains {kql_string("/privatednszones/" + PRIVATE_DNS_ZONE_PREFIX)})
| project {", ".join(RESOURCE_COLUMNS)}
| extend principalId = array_concat(dynamic(['-']), extract_all(@'{PRINCIPAL_PATTERN}', tostring(identity)))
| mv-expand principalId to typeof(string)
| extend principalId = tolower(principalId)
| join kind=leftouter (
    authorizationresources
    | where type =~ {kql_string(ROLE_ASSIGNMENT_TYPE)}
    | extend roleDefinitionId = tolower(tostring(properties.roleDefinitionId))
    | where {roles}
    | project rolePrincipalId = tolower(tostring(properties.principalId)), roleAssignmentId = id, roleDefinitionId, roleScope = tostring(properties.scope), roleCreatedOn = tostring(properties.createdOn), roleCondition = tostring(properties.condition)
  ) on $left.principalId == $right.rolePrincipalId
| project {", ".join(RESOURCE_COLUMNS)}, {", ".join(ROLE_COLUMNS)}
"""
