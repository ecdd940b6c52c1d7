"""What Resource Graph says about the apps and registries involved, as a small model. Pure.

``snapshot_from_rows`` reads the rows of pullwatch's query (``query.build_query``: one row per
resource, repeated once per pull-role assignment of its identities, whose ``role*`` columns are
then filled), and also plain ARM resource objects (``az resource show``, ``az containerapp
show``, ``az acr show`` put in one JSON array) and role assignments as ``az role assignment
list`` prints them. Types and ids are compared in lower case, as Resource Graph returns types.
A row that is not a resource object raises ``SnapshotError`` naming the row.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pullwatch.errors import PullwatchError
from pullwatch.fetch.exports import detect_encoding

APP_TYPES = ("microsoft.app/containerapps", "microsoft.app/jobs")
ENVIRONMENT_TYPE = "microsoft.app/managedenvironments"
REGISTRY_TYPE = "microsoft.containerregistry/registries"
PRIVATE_ENDPOINT_TYPE = "microsoft.network/privateendpoints"
DNS_ZONE_TYPE = "microsoft.network/privatednszones"
VNET_LINK_TYPE = "microsoft.network/privatednszones/virtualnetworklinks"
ROLE_ASSIGNMENT_TYPE = "microsoft.authorization/roleassignments"
PRIVATE_DNS_ZONE_PREFIX = "privatelink.azurecr."  # .io, .us (Government), .cn (China)


class SnapshotError(PullwatchError, ValueError):
    """Resource rows that cannot be read (not objects, no id or type, wrong shapes)."""


@dataclass(frozen=True)
class RoleAssignment:
    id: str
    principal_id: str
    role_definition_id: str
    scope: str
    created_on: datetime | None = None
    condition: str | None = None


@dataclass(frozen=True)
class RegistryEntry:
    """One entry of an app's ``properties.configuration.registries``."""

    server: str
    identity: str | None = None  # "system" or a user-assigned identity's resource id
    username: str | None = None
    password_secret_ref: str | None = None


@dataclass(frozen=True)
class App:
    """A container app or job."""

    id: str
    name: str
    kind: str  # "app" or "job"
    environment_id: str
    system_principal_id: str | None = None
    user_identities: Mapping[str, str] = field(default_factory=dict)  # lower id -> principal
    registries: tuple[RegistryEntry, ...] = ()
    outbound_ips: tuple[str, ...] = ()
    images: tuple[str, ...] = ()

    @property
    def resource_group(self) -> str:
        return resource_group_of(self.id)

    def registry_entry(self, server: str) -> RegistryEntry | None:
        return next((r for r in self.registries if r.server.lower() == server.lower()), None)

    def identity_name(self, identity: str) -> str:
        """``system-assigned identity`` or the user-assigned identity's name."""
        if identity.lower() == "system":
            return "its system-assigned identity"
        return f"identity {identity.rstrip('/').rsplit('/', 1)[-1]}"

    def principal_of(self, identity: str) -> str | None:
        """The principal id behind a registry entry's ``identity``; None when the app lacks it."""
        if identity.lower() == "system":
            return self.system_principal_id
        return self.user_identities.get(identity.lower())


@dataclass(frozen=True)
class Environment:
    id: str
    name: str
    subnet_id: str | None = None  # vnetConfiguration.infrastructureSubnetId
    internal: bool = False

    @property
    def vnet_id(self) -> str | None:
        return vnet_of(self.subnet_id) if self.subnet_id else None


@dataclass(frozen=True)
class Registry:
    """An Azure Container Registry."""

    id: str
    name: str
    login_server: str
    sku: str | None = None
    public_network_access: str | None = None  # "Enabled" | "Disabled"
    default_action: str | None = None  # networkRuleSet.defaultAction: "Allow" | "Deny"
    ip_rules: tuple[str, ...] = ()  # allowed IPs and CIDR ranges
    admin_user_enabled: bool = False
    anonymous_pull_enabled: bool = False
    role_assignment_mode: str | None = None
    private_endpoint_ids: tuple[str, ...] = ()  # approved private endpoint connections

    @property
    def public_access_disabled(self) -> bool:
        return (self.public_network_access or "").lower() == "disabled"

    @property
    def firewall_denies(self) -> bool:
        return (self.default_action or "").lower() == "deny"

    def allows_ip(self, address: str) -> bool:
        """Whether an IP rule allows ``address`` (an IP without port)."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        for rule in self.ip_rules:
            try:
                if ip in ipaddress.ip_network(rule, strict=False):
                    return True
            except ValueError:
                continue
        return False


@dataclass(frozen=True)
class PrivateEndpoint:
    id: str
    subnet_id: str | None
    targets: tuple[str, ...] = ()  # privateLinkServiceId of each connection (lower case)

    @property
    def vnet_id(self) -> str | None:
        return vnet_of(self.subnet_id) if self.subnet_id else None


@dataclass(frozen=True)
class VnetLink:
    id: str
    vnet_id: str

    @property
    def zone_id(self) -> str:
        cut = self.id.lower().rfind("/virtualnetworklinks/")
        return self.id[:cut] if cut >= 0 else self.id


@dataclass(frozen=True)
class Snapshot:
    """Everything one Resource Graph answer holds, indexed for the checks."""

    apps: tuple[App, ...] = ()
    environments: tuple[Environment, ...] = ()
    registries: tuple[Registry, ...] = ()
    role_assignments: tuple[RoleAssignment, ...] = ()
    private_endpoints: tuple[PrivateEndpoint, ...] = ()
    dns_zones: tuple[str, ...] = ()  # ids of privatelink.azurecr.* zones
    vnet_links: tuple[VnetLink, ...] = ()

    def find_apps(self, name: str) -> list[App]:
        return [a for a in self.apps if a.name.lower() == name.lower()]

    def environment(self, environment_id: str) -> Environment | None:
        wanted = environment_id.lower()
        return next((e for e in self.environments if e.id.lower() == wanted), None)

    def registry(self, login_server: str) -> Registry | None:
        wanted = login_server.lower()
        return next((r for r in self.registries if r.login_server.lower() == wanted), None)

    def assignments_of(self, principal_id: str) -> list[RoleAssignment]:
        wanted = principal_id.lower()
        return [a for a in self.role_assignments if a.principal_id == wanted]

    def endpoints_to(self, registry: Registry) -> list[PrivateEndpoint]:
        """The private endpoints connected (approved) to ``registry``."""
        ids = set(registry.private_endpoint_ids)
        wanted = registry.id.lower()
        return [pe for pe in self.private_endpoints if pe.id.lower() in ids or wanted in pe.targets]

    def links_to(self, vnet_id: str) -> list[VnetLink]:
        """Links of a ``privatelink.azurecr.*`` zone to ``vnet_id``."""
        wanted = vnet_id.lower()
        return [
            link
            for link in self.vnet_links
            if link.vnet_id.lower() == wanted
            and _zone_name(link.zone_id).lower().startswith(PRIVATE_DNS_ZONE_PREFIX)
        ]


def resource_group_of(resource_id: str) -> str:
    parts = resource_id.split("/")
    for index, part in enumerate(parts[:-1]):
        if part.lower() == "resourcegroups":
            return parts[index + 1]
    return ""


def subscription_of(resource_id: str) -> str:
    parts = resource_id.split("/")
    for index, part in enumerate(parts[:-1]):
        if part.lower() == "subscriptions":
            return parts[index + 1]
    return ""


def vnet_of(subnet_id: str) -> str:
    """The virtual network id of a subnet id (its case kept)."""
    cut = subnet_id.lower().find("/subnets/")
    return subnet_id[:cut] if cut >= 0 else subnet_id


def _zone_name(zone_id: str) -> str:
    return zone_id.rstrip("/").rsplit("/", 1)[-1]


# --- reading ---------------------------------------------------------------------------------


def rows_of_document(document: Any, *, source: str = "resources") -> list[Mapping[str, Any]]:
    """The rows of an ``az graph query`` answer (``{"data": [...]}``), a Resource Graph REST
    answer (the same key) or a plain JSON array of resource objects."""
    if isinstance(document, Mapping) and "data" in document:
        document = document["data"]
    if not isinstance(document, list):
        raise SnapshotError(
            f"{source}: expected a JSON array of resources or an object with a 'data' array"
        )
    return document


def load_snapshot_file(path: str | Path) -> Snapshot:
    """A snapshot from a file (``--resources FILE``); one-line ``SnapshotError`` when unreadable."""
    file = Path(path)
    try:
        raw = file.read_bytes()
        # az graph query > file in Windows PowerShell writes UTF-16; elsewhere UTF-8 (BOM or not)
        document = json.loads(raw.decode(detect_encoding(raw[:512])))
    except FileNotFoundError:
        raise SnapshotError(f"--resources {file}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SnapshotError(f"--resources {file}: not a JSON document ({error})") from None
    try:
        return snapshot_from_rows(rows_of_document(document, source=f"--resources {file}"))
    except SnapshotError as error:
        if str(error).startswith("--resources "):
            raise
        raise SnapshotError(f"--resources {file}: {error}") from None


def snapshot_from_rows(rows: Iterable[Any]) -> Snapshot:
    """The snapshot of Resource Graph rows or ARM objects (see the module docstring)."""
    apps: dict[str, App] = {}
    environments: dict[str, Environment] = {}
    registries: dict[str, Registry] = {}
    assignments: dict[str, RoleAssignment] = {}
    endpoints: dict[str, PrivateEndpoint] = {}
    zones: dict[str, str] = {}
    links: dict[str, VnetLink] = {}
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            raise SnapshotError(f"row {number} is not a JSON object")
        try:
            _read_row(row, apps, environments, registries, assignments, endpoints, zones, links)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise SnapshotError(f"row {number} cannot be read: {_describe(error)}") from None
    return Snapshot(
        apps=tuple(apps.values()),
        environments=tuple(environments.values()),
        registries=tuple(registries.values()),
        role_assignments=tuple(assignments.values()),
        private_endpoints=tuple(endpoints.values()),
        dns_zones=tuple(zones.values()),
        vnet_links=tuple(links.values()),
    )


def _describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"no {error.args[0]!r}"
    return str(error)[:200]


def _read_row(
    row: Mapping[str, Any],
    apps: dict[str, App],
    environments: dict[str, Environment],
    registries: dict[str, Registry],
    assignments: dict[str, RoleAssignment],
    endpoints: dict[str, PrivateEndpoint],
    zones: dict[str, str],
    links: dict[str, VnetLink],
) -> None:
    if row.get("roleAssignmentId"):  # the joined role columns of pullwatch's query
        assignment = _joined_assignment(row)
        assignments[assignment.id] = assignment
    kind = _text(row, "type").lower()
    if kind == ROLE_ASSIGNMENT_TYPE or ("principalId" in row and "roleDefinitionId" in row):
        assignment = _assignment(row)
        assignments[assignment.id] = assignment
        return
    resource_id = _text(row, "id")
    key = resource_id.lower()
    if not resource_id:
        raise KeyError("id")
    if not kind:
        raise KeyError("type")
    properties = _object(row, "properties")
    if key in apps or key in registries or key in environments or key in endpoints:
        return  # the same resource again (one row per role assignment)
    if kind in APP_TYPES:
        apps[key] = _app(row, resource_id, kind, properties)
    elif kind == ENVIRONMENT_TYPE:
        vnet = _object(properties, "vnetConfiguration")
        environments[key] = Environment(
            id=resource_id,
            name=_text(row, "name"),
            subnet_id=_opt_text(vnet, "infrastructureSubnetId"),
            internal=bool(vnet.get("internal", False)),
        )
    elif kind == REGISTRY_TYPE:
        registries[key] = _registry(row, resource_id, properties)
    elif kind == PRIVATE_ENDPOINT_TYPE:
        targets = [
            _text(_object(connection, "properties"), "privateLinkServiceId").lower()
            for key in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections")
            for connection in _list(properties, key)
        ]
        endpoints[key] = PrivateEndpoint(
            id=resource_id,
            subnet_id=_opt_text(_object(properties, "subnet"), "id"),
            targets=tuple(t for t in targets if t),
        )
    elif kind == DNS_ZONE_TYPE:
        zones[key] = resource_id
    elif kind == VNET_LINK_TYPE:
        network = _opt_text(_object(properties, "virtualNetwork"), "id")
        if network:
            links[key] = VnetLink(resource_id, network)


def _app(row: Mapping[str, Any], resource_id: str, kind: str, properties: Mapping[str, Any]) -> App:
    identity = _object(row, "identity")
    users = _object(identity, "userAssignedIdentities")
    configuration = _object(properties, "configuration")
    template = _object(properties, "template")
    images = [
        _text(container, "image")
        for key in ("containers", "initContainers")
        for container in _list(template, key)
    ]
    registries = tuple(
        RegistryEntry(
            server=_text(entry, "server"),
            identity=_opt_text(entry, "identity"),
            username=_opt_text(entry, "username"),
            password_secret_ref=_opt_text(entry, "passwordSecretRef"),
        )
        for entry in _list(configuration, "registries")
    )
    return App(
        id=resource_id,
        name=_text(row, "name"),
        kind="job" if kind.endswith("/jobs") else "app",
        environment_id=(
            _opt_text(properties, "managedEnvironmentId")
            or _opt_text(properties, "environmentId")
            or ""
        ),
        system_principal_id=(_opt_text(identity, "principalId") or "").lower() or None,
        user_identities={
            str(key).lower(): _text(value, "principalId").lower()
            for key, value in users.items()
            if isinstance(value, Mapping)
        },
        registries=registries,
        outbound_ips=tuple(str(ip) for ip in _list(properties, "outboundIpAddresses")),
        images=tuple(image for image in dict.fromkeys(images) if image),
    )


def _registry(row: Mapping[str, Any], resource_id: str, properties: Mapping[str, Any]) -> Registry:
    rules = _object(properties, "networkRuleSet")
    connections = []
    for connection in _list(properties, "privateEndpointConnections"):
        details = _object(connection, "properties")
        state = _opt_text(_object(details, "privateLinkServiceConnectionState"), "status")
        endpoint = _opt_text(_object(details, "privateEndpoint"), "id")
        if endpoint and (state or "Approved").lower() == "approved":
            connections.append(endpoint.lower())
    return Registry(
        id=resource_id,
        name=_text(row, "name"),
        login_server=_text(properties, "loginServer"),
        sku=_opt_text(_object(row, "sku"), "name"),
        public_network_access=_opt_text(properties, "publicNetworkAccess"),
        default_action=_opt_text(rules, "defaultAction"),
        ip_rules=tuple(
            _text(rule, "value") for rule in _list(rules, "ipRules") if _opt_text(rule, "value")
        ),
        admin_user_enabled=bool(properties.get("adminUserEnabled", False)),
        anonymous_pull_enabled=bool(properties.get("anonymousPullEnabled", False)),
        role_assignment_mode=_opt_text(properties, "roleAssignmentMode"),
        private_endpoint_ids=tuple(connections),
    )


def _assignment(row: Mapping[str, Any]) -> RoleAssignment:
    """An ARM role assignment (``properties``) or ``az role assignment list`` (flat)."""
    details = _object(row, "properties") if "properties" in row else row
    return RoleAssignment(
        id=_text(row, "id").lower(),
        principal_id=_text(details, "principalId").lower(),
        role_definition_id=_text(details, "roleDefinitionId").lower(),
        scope=_text(details, "scope").lower(),
        created_on=_time(details.get("createdOn")),
        condition=_opt_text(details, "condition"),
    )


def _joined_assignment(row: Mapping[str, Any]) -> RoleAssignment:
    return RoleAssignment(
        id=_text(row, "roleAssignmentId").lower(),
        principal_id=_text(row, "rolePrincipalId").lower(),
        role_definition_id=_text(row, "roleDefinitionId").lower(),
        scope=_text(row, "roleScope").lower(),
        created_on=_time(row.get("roleCreatedOn")),
        condition=_opt_text(row, "roleCondition"),
    )


def _object(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{key!r} is not an object")
    return value


def _list(data: Mapping[str, Any], key: str) -> Sequence[Any]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise TypeError(f"{key!r} is not an array")
    for item in value:
        if isinstance(item, list):
            raise TypeError(f"{key!r} holds an array where a value belongs")
    return value


def _text(data: Any, key: str) -> str:
    if not isinstance(data, Mapping):
        raise TypeError(f"expected an object holding {key!r}")
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, Mapping | list):
        raise TypeError(f"{key!r} is not text")
    return str(value)


def _opt_text(data: Mapping[str, Any], key: str) -> str | None:
    return _text(data, key) or None


def _time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
