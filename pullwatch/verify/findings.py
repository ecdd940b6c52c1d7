"""Findings: what the configuration behind a failing pull says, each with a stable id, a sentence
filled with real names, and the one fix that matches, all with real ids. Pure.

``evaluate(target, snapshot, checked_at=...)`` checks, for every registry the failing image (or,
when the log line names none, the app's images) comes from:

- the registry is an ACR pullwatch can see (``registry-not-found``), and the app has an entry for
  it unless the registry allows anonymous pulls (``registry-not-configured``);
- an entry with an identity: the app has that identity (``identity-not-on-app``), whose principal
  holds a role that grants pulls in this registry's permission mode on the registry, its
  resource group, subscription or a management group (``identity-lacks-pull-role``), assigned
  long enough before the last failure to have propagated (``pull-role-recent``, 10 minutes);
- an entry with a username that is the registry's admin user: the admin user is enabled
  (``admin-user-disabled``);
- the network: public access disabled without a private endpoint in the environment's VNet
  (``registry-public-access-disabled``), a firewall whose IP rules do not allow the app's
  outbound IPs (``registry-ip-rules-exclude-environment``), a private endpoint in the
  environment's VNet without a ``privatelink.azurecr.*`` zone linked to that VNet
  (``private-dns-not-linked``);

and says ``checks-passed`` when none of these is wrong. Findings are ordered by how well they
explain the alert's cause; the first one's fix leads the alert.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from classifiers import Cause, parse_reference
from classifiers.reference import is_acr_host
from notifiers.alert import Step
from pullwatch.verify.roles import ABAC_MODE, PullRole, pull_role_for, role_of
from pullwatch.verify.snapshot import App, Environment, Registry, RoleAssignment, Snapshot

PROPAGATION = timedelta(minutes=10)


class FindingId(StrEnum):
    """Stable ids of findings (a public interface: webhook JSON, dry-run JSON, ledger)."""

    REGISTRY_NOT_CONFIGURED = "registry-not-configured"
    IDENTITY_NOT_ON_APP = "identity-not-on-app"
    IDENTITY_LACKS_PULL_ROLE = "identity-lacks-pull-role"
    PULL_ROLE_RECENT = "pull-role-recent"
    ADMIN_USER_DISABLED = "admin-user-disabled"
    REGISTRY_PUBLIC_ACCESS_DISABLED = "registry-public-access-disabled"
    REGISTRY_IP_RULES_EXCLUDE_ENVIRONMENT = "registry-ip-rules-exclude-environment"
    REGISTRY_NOT_FOUND = "registry-not-found"
    PRIVATE_DNS_NOT_LINKED = "private-dns-not-linked"
    CHECKS_PASSED = "checks-passed"


_F = FindingId
_CREDENTIALS = (
    _F.REGISTRY_NOT_FOUND,
    _F.REGISTRY_NOT_CONFIGURED,
    _F.IDENTITY_NOT_ON_APP,
    _F.IDENTITY_LACKS_PULL_ROLE,
    _F.PULL_ROLE_RECENT,
    _F.ADMIN_USER_DISABLED,
    _F.PRIVATE_DNS_NOT_LINKED,
    _F.REGISTRY_PUBLIC_ACCESS_DISABLED,
    _F.REGISTRY_IP_RULES_EXCLUDE_ENVIRONMENT,
)
_NETWORK = (
    _F.REGISTRY_PUBLIC_ACCESS_DISABLED,
    _F.REGISTRY_IP_RULES_EXCLUDE_ENVIRONMENT,
    _F.PRIVATE_DNS_NOT_LINKED,
    _F.REGISTRY_NOT_FOUND,
    _F.REGISTRY_NOT_CONFIGURED,
    _F.IDENTITY_NOT_ON_APP,
    _F.IDENTITY_LACKS_PULL_ROLE,
    _F.PULL_ROLE_RECENT,
    _F.ADMIN_USER_DISABLED,
)
_NAMES = (
    _F.REGISTRY_NOT_FOUND,
    _F.PRIVATE_DNS_NOT_LINKED,
    _F.REGISTRY_PUBLIC_ACCESS_DISABLED,
    _F.REGISTRY_IP_RULES_EXCLUDE_ENVIRONMENT,
    *_CREDENTIALS[1:6],
)
# The causes whose explanation lies in the configuration Resource Graph shows, and the order in
# which findings explain each (the first present one leads the alert).
PRIORITY: dict[Cause, tuple[FindingId, ...]] = {
    Cause.REGISTRY_UNAUTHORIZED: _CREDENTIALS,
    Cause.REPOSITORY_ACCESS_DENIED: _CREDENTIALS,
    Cause.UNKNOWN: _CREDENTIALS,
    Cause.REGISTRY_FIREWALL: _NETWORK,
    Cause.NETWORK_TIMEOUT: _NETWORK,
    Cause.CONNECTION_FAILED: _NETWORK,
    Cause.DNS_FAILURE: _NAMES,
}
VERIFIED_CAUSES = frozenset(cause.value for cause in PRIORITY)


@dataclass(frozen=True)
class Target:
    """What one alert is about: the revision, its cause and what its log line said."""

    environment: str
    app: str
    revision: str
    cause: str
    last_failure: datetime
    image: str | None = None
    registry: str | None = None  # host of the image's registry
    client_ip: str | None = None
    subject: str = ""  # the ledger key when it is not environment/app/revision (jobs, ...)

    @property
    def key(self) -> str:
        return self.subject or f"{self.environment}/{self.app}/{self.revision}"


@dataclass(frozen=True)
class Finding:
    id: FindingId
    text: str  # one sentence with real names
    fix: Step | None = None


@dataclass(frozen=True)
class Verification:
    """The result of checking one target: findings, or why the check could not be made."""

    cause: str
    checked_at: datetime
    findings: tuple[Finding, ...] = ()
    error: str | None = None  # set: the check could not be made

    @property
    def fix(self) -> Step | None:
        """The fix of the leading finding."""
        return self.findings[0].fix if self.findings else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "cause": self.cause,
            "checked_at": self.checked_at.astimezone(UTC).isoformat(),
            "error": self.error,
            "findings": [
                {
                    "id": f.id.value,
                    "text": f.text,
                    "fix": {"text": f.fix.text, "command": f.fix.command} if f.fix else None,
                }
                for f in self.findings
            ],
        }

    @classmethod
    def from_dict(cls, data: Any) -> Verification:
        findings = []
        for item in data.get("findings", []):
            fix = item.get("fix")
            findings.append(
                Finding(
                    FindingId(item["id"]),
                    str(item["text"]),
                    Step(str(fix["text"]), fix.get("command")) if fix else None,
                )
            )
        return cls(
            cause=str(data["cause"]),
            checked_at=datetime.fromisoformat(str(data["checked_at"])),
            findings=tuple(findings),
            error=data.get("error"),
        )


class _Unchecked(Exception):
    """The target cannot be checked against this snapshot (the reason is safe to print)."""


def evaluate(target: Target, snapshot: Snapshot, *, checked_at: datetime) -> Verification:
    """The findings for ``target`` (sorted by the cause's priority); see the module docstring."""
    try:
        app = _find_app(target, snapshot)
        environment = snapshot.environment(app.environment_id)
        found: list[Finding] = []
        hosts = _hosts(target, app)
        if not hosts:
            raise _Unchecked(f"neither the log line nor {app.name} names an image")
        for host, repository in hosts:
            found.extend(_check_host(target, app, environment, snapshot, host, repository))
    except _Unchecked as reason:
        return Verification(target.cause, checked_at, error=str(reason))
    order = (
        PRIORITY.get(Cause(target.cause), _CREDENTIALS)
        if target.cause in VERIFIED_CAUSES
        else _CREDENTIALS
    )
    found = _unique(sorted(found, key=lambda f: order.index(f.id) if f.id in order else len(order)))
    if not found:
        found = [_passed(target, app, [h for h, _ in hosts], snapshot)]
    return Verification(target.cause, checked_at, tuple(found))


def _unique(findings: Iterable[Finding]) -> list[Finding]:
    seen: set[tuple[str, str]] = set()
    out = []
    for finding in findings:
        if (finding.id, finding.text) not in seen:
            seen.add((finding.id, finding.text))
            out.append(finding)
    return out


def _find_app(target: Target, snapshot: Snapshot) -> App:
    candidates = snapshot.find_apps(target.app)
    suffix = f"/managedenvironments/{target.environment.lower()}"
    in_environment = [a for a in candidates if a.environment_id.lower().endswith(suffix)]
    if in_environment:
        return in_environment[0]
    if len(candidates) == 1 and not target.environment:
        return candidates[0]
    raise _Unchecked(
        f"Resource Graph shows no app {target.app} in environment {target.environment} "
        "(does pullwatch's identity have Reader on its resource group?)"
    )


def _hosts(target: Target, app: App) -> list[tuple[str, str | None]]:
    """(registry host, repository) pairs to check: the log line's, else the app's images."""
    if target.registry:
        reference = parse_reference(target.image) if target.image else None
        return [(target.registry.lower(), reference.repository if reference else None)]
    pairs: dict[str, str | None] = {}
    for image in app.images:
        reference = parse_reference(image)
        if reference is not None:
            pairs.setdefault(reference.registry.lower(), reference.repository)
    return list(pairs.items())


def _app_args(app: App) -> str:
    noun = "containerapp job" if app.kind == "job" else "containerapp"
    return f"az {noun} {{verb}} --name {app.name} --resource-group {app.resource_group}"


def _az(app: App, verb: str, rest: str = "") -> str:
    return _app_args(app).format(verb=verb) + (f" {rest}" if rest else "")


def _check_host(
    target: Target,
    app: App,
    environment: Environment | None,
    snapshot: Snapshot,
    host: str,
    repository: str | None,
) -> list[Finding]:
    registry = snapshot.registry(host)
    entry = app.registry_entry(host)
    if registry is None:
        if not is_acr_host(host):
            if entry is None and target.cause in (
                Cause.REGISTRY_UNAUTHORIZED,
                Cause.REPOSITORY_ACCESS_DENIED,
            ):
                return [_not_configured_elsewhere(app, host)]
            return []
        return [_not_found(app, host, snapshot)]
    findings: list[Finding] = []
    if entry is None:
        if not registry.anonymous_pull_enabled:
            findings.append(_not_configured(app, registry, snapshot))
    elif entry.identity:
        findings.extend(
            _identity_findings(target, app, registry, snapshot, entry.identity, repository)
        )
    elif (
        entry.username
        and entry.username.lower() == registry.name.lower()
        and not registry.admin_user_enabled
    ):
        findings.append(_admin_disabled(app, registry))
    findings.extend(_network_findings(target, app, environment, registry, snapshot))
    return findings


# --- registry and credentials ----------------------------------------------------------------


def _not_found(app: App, host: str, snapshot: Snapshot) -> Finding:
    visible = sorted(r.login_server for r in snapshot.registries)[:5]
    seen = f" (it sees {', '.join(visible)})" if visible else ""
    return Finding(
        _F.REGISTRY_NOT_FOUND,
        f"no container registry with login server {host} exists in the subscriptions "
        f"pullwatch can read{seen}: a typo in the image, a deleted registry, or one outside "
        "pullwatch's Reader scopes",
        Step(
            f"Check the registry name in {app.name}'s image and point it at an existing registry",
            _az(app, "update", "--image <registry>.azurecr.io/<repository>:<tag>"),
        ),
    )


def _not_configured(app: App, registry: Registry, snapshot: Snapshot) -> Finding:
    identity = _identity_with_pull(app, registry, snapshot) or "system"
    return Finding(
        _F.REGISTRY_NOT_CONFIGURED,
        f"{app.name} has no registry entry for {registry.login_server}, so it pulls "
        "anonymously, and the registry does not allow anonymous pulls",
        Step(
            f"Make {app.name} pull from {registry.login_server} with {app.identity_name(identity)}",
            _az(app, "registry set", f"--server {registry.login_server} --identity {identity}"),
        ),
    )


def _not_configured_elsewhere(app: App, host: str) -> Finding:
    return Finding(
        _F.REGISTRY_NOT_CONFIGURED,
        f"{app.name} has no registry entry for {host}, so it pulls anonymously: a private "
        "repository there needs credentials",
        Step(
            f"Give {app.name} credentials for {host}",
            _az(
                app,
                "registry set",
                f"--server {host} --username <user> --password <access-token>",
            ),
        ),
    )


def _identity_with_pull(app: App, registry: Registry, snapshot: Snapshot) -> str | None:
    """An identity of the app whose principal already may pull from ``registry``."""
    for identity, principal in [("system", app.system_principal_id), *app.user_identities.items()]:
        if principal and _honoured(snapshot.assignments_of(principal), registry, None):
            return identity
    return None


def _identity_findings(
    target: Target,
    app: App,
    registry: Registry,
    snapshot: Snapshot,
    identity: str,
    repository: str | None,
) -> list[Finding]:
    principal = app.principal_of(identity)
    name = app.identity_name(identity)
    if principal is None:
        if identity.lower() == "system":
            command = _az(app, "identity assign", "--system-assigned")
            text = f"Turn on {app.name}'s system-assigned identity, then grant it pull access"
        else:
            command = _az(app, "identity assign", f"--user-assigned {identity}")
            text = f"Assign {name} to {app.name}"
        return [
            Finding(
                _F.IDENTITY_NOT_ON_APP,
                f"{app.name}'s registry entry for {registry.login_server} pulls with {name}, "
                f"which {app.name} does not have",
                Step(text, command),
            )
        ]
    assignments = snapshot.assignments_of(principal)
    honoured = _honoured(assignments, registry, repository)
    role = pull_role_for(registry.role_assignment_mode)
    if not honoured:
        return [_lacks_role(app, registry, name, principal, role, assignments, repository)]
    settled = [
        a
        for a in honoured
        if a.created_on is None or a.created_on <= target.last_failure - PROPAGATION
    ]
    if settled:
        return []
    newest = max(honoured, key=lambda a: a.created_on or datetime.min.replace(tzinfo=UTC))
    assert newest.created_on is not None
    granted = _role_name(newest)
    if newest.created_on > target.last_failure:
        when = f"after the last failed pull ({_hhmm(target.last_failure)}): the next pull should succeed"
    else:
        minutes = max(1, round((target.last_failure - newest.created_on).total_seconds() / 60))
        when = (
            f"{minutes} minute{'s' if minutes != 1 else ''} before the last failed pull "
            f"({_hhmm(target.last_failure)}): a new role assignment can take up to 10 minutes "
            "to take effect"
        )
    return [
        Finding(
            _F.PULL_ROLE_RECENT,
            f"{name} got {granted} on {registry.name} at {_hhmm(newest.created_on)}, {when}",
            Step(
                "Wait until 10 minutes after the assignment, then restart the revision",
                _az(app, "revision restart", f"--revision {target.revision}"),
            ),
        )
    ]


def _lacks_role(
    app: App,
    registry: Registry,
    name: str,
    principal: str,
    role: PullRole,
    assignments: list[RoleAssignment],
    repository: str | None,
) -> Finding:
    covering = [a for a in assignments if _covers(a.scope, registry)]
    why = ""
    ignored = [
        a for a in covering if (r := role_of(a.role_definition_id)) and not _granted_by(r, registry)
    ]
    if ignored and (registry.role_assignment_mode or "").lower() == ABAC_MODE:
        why = (
            f"; its {_role_name(ignored[0])} is not honoured because {registry.name} uses ABAC "
            "repository permissions"
        )
    elif any(a.condition for a in covering) and repository:
        why = f"; the condition on its role assignment does not include repository {repository}"
    return Finding(
        _F.IDENTITY_LACKS_PULL_ROLE,
        f"{name} (principal {principal}) has no {role.name} on {registry.name} (checked the "
        f"registry, its resource group and subscription; group memberships are not visible "
        f"to Resource Graph){why}",
        Step(
            f"Grant {name} {role.name} on {registry.name}",
            f'az role assignment create --role "{role.name}" --assignee-object-id {principal} '
            f"--assignee-principal-type ServicePrincipal --scope {registry.id}",
        ),
    )


def _admin_disabled(app: App, registry: Registry) -> Finding:
    return Finding(
        _F.ADMIN_USER_DISABLED,
        f"{app.name} signs in to {registry.login_server} as the admin user {registry.name}, but "
        f"{registry.name}'s admin user is disabled",
        Step(
            f"Pull with {app.name}'s system-assigned identity instead (then grant it "
            f"{pull_role_for(registry.role_assignment_mode).name}), or re-enable the admin "
            f"user: az acr update --name {registry.name} --admin-enabled true",
            _az(app, "registry set", f"--server {registry.login_server} --identity system"),
        ),
    )


def _honoured(
    assignments: list[RoleAssignment], registry: Registry, repository: str | None
) -> list[RoleAssignment]:
    """Assignments that grant pulls from ``registry`` (scope, role and condition)."""
    out = []
    for assignment in assignments:
        role = role_of(assignment.role_definition_id)
        if (
            role is None
            or not _granted_by(role, registry)
            or not _covers(assignment.scope, registry)
        ):
            continue
        if (
            assignment.condition
            and repository
            and not _condition_allows(assignment.condition, repository)
        ):
            continue
        out.append(assignment)
    return out


def _granted_by(role: PullRole, registry: Registry) -> bool:
    abac = (registry.role_assignment_mode or "").lower() == ABAC_MODE
    return role.abac if abac else role.legacy


def _covers(scope: str, registry: Registry) -> bool:
    scope = scope.lower().rstrip("/")
    target = registry.id.lower()
    return (
        scope in ("", target)
        or target.startswith(scope + "/")
        or scope.startswith("/providers/microsoft.management/managementgroups/")
    )


_QUOTED = re.compile(r"'([^']*)'")


def _condition_allows(condition: str, repository: str) -> bool:
    """Whether an ABAC condition's repository names include ``repository`` (equal or prefix)."""
    names = [n.lower() for n in _QUOTED.findall(condition) if n]
    return any(repository.lower() == n or repository.lower().startswith(n) for n in names)


def _role_name(assignment: RoleAssignment) -> str:
    role = role_of(assignment.role_definition_id)
    return role.name if role else assignment.role_definition_id.rsplit("/", 1)[-1]


# --- network ---------------------------------------------------------------------------------


def _network_findings(
    target: Target,
    app: App,
    environment: Environment | None,
    registry: Registry,
    snapshot: Snapshot,
) -> list[Finding]:
    vnet = environment.vnet_id if environment else None
    endpoints = snapshot.endpoints_to(registry)
    private = [pe for pe in endpoints if vnet and pe.vnet_id and pe.vnet_id.lower() == vnet.lower()]
    findings = []
    if private and vnet and not snapshot.links_to(vnet):
        zone_groups = {z.rsplit("/", 1)[-1].lower(): z for z in snapshot.dns_zones}
        zone = next(iter(zone_groups.values()), None)
        vnet_name = vnet.rstrip("/").rsplit("/", 1)[-1]
        if zone:
            parts = zone.split("/")
            zone_rg = parts[4] if len(parts) > 4 else "<dns-zone-resource-group>"
            zone_name = parts[-1]
            command = (
                f"az network private-dns link vnet create --resource-group {zone_rg} "
                f"--zone-name {zone_name} --name {vnet_name}-link --virtual-network {vnet} "
                "--registration-enabled false"
            )
            text = f"Link the private DNS zone {zone_name} to {vnet_name}"
        else:
            command = (
                f"az network private-dns zone create --resource-group {app.resource_group} "
                "--name privatelink.azurecr.io && az network private-dns link vnet create "
                f"--resource-group {app.resource_group} --zone-name privatelink.azurecr.io "
                f"--name {vnet_name}-link --virtual-network {vnet} --registration-enabled false"
            )
            text = (
                "Create the private DNS zone privatelink.azurecr.io and link it to "
                f"{vnet_name} (then add the private endpoint's DNS zone group)"
            )
        findings.append(
            Finding(
                _F.PRIVATE_DNS_NOT_LINKED,
                f"{registry.name} has a private endpoint in {vnet_name}, the VNet of "
                f"environment {target.environment}, but no privatelink.azurecr.* DNS zone is "
                f"linked to {vnet_name}, so {registry.login_server} resolves to its public "
                "address (unless the VNet's own DNS servers forward that zone)",
                Step(text, command),
            )
        )
    if registry.public_access_disabled and not private:
        if vnet:
            fix = Step(
                f"Give {registry.name} a private endpoint in {vnet.rsplit('/', 1)[-1]} (a subnet "
                "other than the environment's infrastructure subnet), with a DNS zone group",
                f"az network private-endpoint create --name pe-{registry.name} "
                f"--resource-group {app.resource_group} --vnet-name {vnet.rsplit('/', 1)[-1]} "
                "--subnet <private-endpoint-subnet> "
                f"--private-connection-resource-id {registry.id} --group-id registry "
                f"--connection-name {registry.name}",
            )
            path = f"no private endpoint of {registry.name} is in {vnet.rsplit('/', 1)[-1]}, the environment's VNet"
        else:
            ips = _ips(target, app)
            fix = Step(
                f"Enable public access to {registry.name} for {app.name}'s outbound IPs only",
                f"az acr update --name {registry.name} --public-network-access Enabled "
                "--default-action Deny"
                + "".join(
                    f" && az acr network-rule add --name {registry.name} --ip-address {ip}"
                    for ip in ips or ["<outbound-ip>"]
                ),
            )
            path = f"environment {target.environment} has no VNet, so it has no private path"
        findings.append(
            Finding(
                _F.REGISTRY_PUBLIC_ACCESS_DISABLED,
                f"{registry.name} has public network access disabled and {path}",
                fix,
            )
        )
    elif (
        registry.firewall_denies
        and not registry.public_access_disabled
        and not (private and snapshot.links_to(vnet or ""))
    ):
        ips = _ips(target, app)
        blocked = [ip for ip in ips if not registry.allows_ip(ip)]
        if blocked:
            findings.append(
                Finding(
                    _F.REGISTRY_IP_RULES_EXCLUDE_ENVIRONMENT,
                    f"{registry.name}'s firewall denies by default and its IP rules do not "
                    f"allow {', '.join(blocked)}, the outbound IP{'s' if len(blocked) > 1 else ''} "
                    f"of {app.name}",
                    Step(
                        f"Allow {', '.join(blocked)} in {registry.name}'s firewall",
                        " && ".join(
                            f"az acr network-rule add --name {registry.name} --ip-address {ip}"
                            for ip in blocked
                        ),
                    ),
                )
            )
    return findings


def _ips(target: Target, app: App) -> list[str]:
    """The IPs the registry sees: the log line's client IP, else the app's outbound IPs."""
    if target.client_ip:
        return [target.client_ip]
    return list(app.outbound_ips)


def _passed(target: Target, app: App, hosts: list[str], snapshot: Snapshot) -> Finding:
    registries = ", ".join(hosts)
    return Finding(
        _F.CHECKS_PASSED,
        f"everything checked is right for {app.name} and {registries} (registry entry, "
        "identity, pull role, admin user, network rules, private DNS): the cause is likely "
        "on the platform's side or still propagating",
        Step(
            "Restart the revision; if it keeps failing, open a support request with this alert",
            _az(app, "revision restart", f"--revision {target.revision}"),
        ),
    )


def _hhmm(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%H:%M UTC")
