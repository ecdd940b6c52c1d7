"""The Azure built-in roles that let an identity pull from a container registry, in one table.

Sources: learn.microsoft.com/azure/container-registry/container-registry-roles (Owner,
Contributor and Reader include pull in registries with registry-wide RBAC) and
.../container-registry-rbac-abac-repository-permissions (in registries whose role assignment
mode is ``AbacRepositoryPermissions`` AcrPull, AcrPush and AcrDelete are not honoured and Owner,
Contributor and Reader grant no data-plane access; the "Container Registry Repository ..." roles
grant pulls, optionally limited to repositories by an ABAC condition). Role ids from
learn.microsoft.com/azure/role-based-access-control/built-in-roles.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

ABAC_MODE = "abacrepositorypermissions"  # registry properties.roleAssignmentMode, lower case


@dataclass(frozen=True)
class PullRole:
    name: str
    id: str  # role definition GUID (lower case)
    legacy: bool  # grants pull in a registry with registry-wide RBAC (the default mode)
    abac: bool  # grants pull in a registry with ABAC repository permissions


PULL_ROLES: tuple[PullRole, ...] = (
    PullRole("AcrPull", "7f951dda-4ed3-4680-a7ca-43fe172d538d", legacy=True, abac=False),
    PullRole("AcrPush", "8311e382-0749-4cb8-b61a-304f252e45ec", legacy=True, abac=False),
    PullRole("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c", legacy=True, abac=False),
    PullRole("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", legacy=True, abac=False),
    PullRole("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7", legacy=True, abac=False),
    PullRole(
        "Container Registry Repository Reader",
        "b93aa761-3e63-49ed-ac28-beffa264f7ac",
        legacy=False,
        abac=True,
    ),
    PullRole(
        "Container Registry Repository Writer",
        "2a1e307c-b015-4ebd-883e-5b7698a07328",
        legacy=False,
        abac=True,
    ),
    PullRole(
        "Container Registry Repository Contributor",
        "2efddaa5-3f1f-4df3-97df-af3f13818f4c",
        legacy=False,
        abac=True,
    ),
)

ROLES_BY_ID = MappingProxyType({role.id: role for role in PULL_ROLES})
ACR_PULL = ROLES_BY_ID["7f951dda-4ed3-4680-a7ca-43fe172d538d"]
REPOSITORY_READER = ROLES_BY_ID["b93aa761-3e63-49ed-ac28-beffa264f7ac"]


def role_of(role_definition_id: str) -> PullRole | None:
    """The pull role a role definition id (``/subscriptions/.../roleDefinitions/<guid>``) names."""
    return ROLES_BY_ID.get(role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower())


def pull_role_for(role_assignment_mode: str | None) -> PullRole:
    """The least role that grants pulls in a registry with this role assignment mode."""
    return REPOSITORY_READER if (role_assignment_mode or "").lower() == ABAC_MODE else ACR_PULL
