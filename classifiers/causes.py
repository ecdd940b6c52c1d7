"""The cause catalog: one row per cause with its title, transient flag, summary and remediation.

This table is the single source of truth for what a cause *means* and how to fix it. The rules
that recognise a cause in log text live in ``classifiers.rules``; adding a cause is one row here,
its rules there, and its test messages.

Each remediation step has a stable ``id``, the Microsoft (or Docker) page it follows (``source``),
and ``only``: the facts it needs to be shown (an ACR registry, a custom DNS server, ...).
``classifiers.remediation`` selects and fills them. Commands are bash as pasted into a shell
with the Azure CLI and its containerapp extension; a ``console`` step is typed into the
Container Apps debug console opened by the step before it. Every command is checked against the
Azure CLI's own command table by ``tests/classifiers/test_steps.py``.

Placeholders: ``{field}`` is filled from the log line (registry, registry_name, repository, tag,
image, client_ip, dns_server, cache_rule); ``<app>``, ``<resource-group>``, ``<environment>`` and
``<revision>`` are filled by the caller that knows the revision; anything else in angle brackets
is a value only the reader knows, named in words by ``classifiers.remediation.VALUE_WORDS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

TROUBLESHOOTING_URL = "https://aka.ms/cappsimagepullerrors"


class Cause(StrEnum):
    """Why an image pull failed. The values are a public interface (JSON, ledger, messages)."""

    IMAGE_NOT_FOUND = "image-not-found"
    REGISTRY_UNAUTHORIZED = "registry-unauthorized"
    REPOSITORY_ACCESS_DENIED = "repository-access-denied"
    REGISTRY_FIREWALL = "registry-firewall"
    DNS_FAILURE = "dns-failure"
    NETWORK_TIMEOUT = "network-timeout"
    CONNECTION_FAILED = "connection-failed"
    TLS_ERROR = "tls-error"
    REGISTRY_UNAVAILABLE = "registry-unavailable"
    RATE_LIMITED = "rate-limited"
    PULL_CANCELED = "pull-canceled"
    PLATFORM_MISMATCH = "platform-mismatch"
    INVALID_IMAGE_REFERENCE = "invalid-image-reference"
    IMAGE_UNPACK_FAILED = "image-unpack-failed"
    UNKNOWN = "unknown"


class Only(StrEnum):
    """A fact a remediation step needs before it is shown (a step lists all it needs)."""

    ACR = "acr"  # the registry is an Azure Container Registry (*.azurecr.io and sovereign clouds)
    NOT_ACR = "not-acr"
    CACHEABLE = "cacheable"  # not ACR, and an upstream ACR's artifact cache can pull from
    OTHER_DNS = "other-dns"  # the DNS server is unknown or is not Azure DNS (168.63.129.16)
    NO_CLIENT_IP = "no-client-ip"  # the log does not say which address the registry saw


@dataclass(frozen=True)
class StepTemplate:
    id: str  # stable within the catalog: other stages point at a step by it
    text: str
    command: str | None = None
    source: str = ""  # the page the step follows
    only: tuple[Only, ...] = ()
    console: bool = False  # typed in the debug console, not in a local shell


@dataclass(frozen=True)
class CauseInfo:
    cause: Cause
    title: str
    transient: bool
    summary: str  # one line; may use {image} {registry} {client_ip} {dns_server} {http_status}
    steps: tuple[StepTemplate, ...]


_S = StepTemplate
_LEARN = "https://learn.microsoft.com/azure/"
_CLI = "https://learn.microsoft.com/cli/azure/"
_APP = "--name <app> --resource-group <resource-group>"
# The failing revision's container never started, so the debug console attaches to a healthy
# revision of the same app: it shares the environment's network and DNS.
_HEALTHY = (
    f'"$(az containerapp revision list {_APP} '
    '--query "[?properties.healthState==\'Healthy\'] | [0].name" -o tsv)"'
)
_CONTAINER = (
    f'"$(az containerapp show {_APP} '
    '--query "properties.template.containers[?image==\'{image}\'].name | [0]" -o tsv)"'
)
_ACR_ID = '"$(az acr show --name {registry_name} --query id -o tsv)"'
_PULL_ROLE = (
    "\"$(az acr show --name {registry_name} --query \"roleAssignmentMode=='AbacRepositoryPermissions'"
    " && 'Container Registry Repository Reader' || 'AcrPull'\" -o tsv)\""
)
_SUBNET = (
    "subnet=$(az containerapp env show --ids "
    f'"$(az containerapp show {_APP} --query properties.environmentId -o tsv)" '
    "--query properties.vnetConfiguration.infrastructureSubnetId -o tsv)"
)


def _debug_console(step_id: str) -> StepTemplate:
    return _S(
        step_id,
        "Open the debug console on a healthy revision of the app (the failing revision has no "
        "running container; a revision of another app in the same environment works too)",
        f"az containerapp debug {_APP} --revision {_HEALTHY}",
        _LEARN + "container-apps/container-debug-console",
    )


def _restart(step_id: str, text: str) -> StepTemplate:
    return _S(
        step_id,
        text,
        f"az containerapp revision restart {_APP} --revision <revision>",
        _CLI + "containerapp/revision#az-containerapp-revision-restart",
    )


_RESTART_AFTER_CREDENTIALS = _restart(
    "restart-revision",
    "Make the change take effect: restart the failing revision (registry and secret changes do "
    "not restart revisions that already exist)",
)
_REGISTRY_CONFIG = _S(
    "registry-config",
    "See how the app signs in to {registry}: a managed identity (system or a resource id) or a "
    "username with a password secret",
    f"az containerapp registry list {_APP} --query \"[?server=='{{registry}}']\" -o table",
    _CLI + "containerapp/registry#az-containerapp-registry-list",
)
_ACR_AUTH_SETTINGS = _S(
    "acr-auth-settings",
    "Check what {registry_name} accepts: managed identities need ARM-audience tokens "
    "(armTokens enabled); roleAssignmentMode AbacRepositoryPermissions ignores AcrPull; "
    "passwords need adminUserEnabled",
    'az acr show --name {registry_name} --query "{{sku:sku.name, '
    "roleAssignmentMode:roleAssignmentMode, "
    "armTokens:policies.azureAdAuthenticationAsArmPolicy.status, "
    'adminUserEnabled:adminUserEnabled}}" -o table',
    _LEARN + "container-apps/managed-identity-image-pull",
    (Only.ACR,),
)
_ACR_ARM_TOKENS = _S(
    "acr-arm-tokens",
    "If armTokens is disabled: allow ARM-audience tokens, which Container Apps' managed "
    "identities present",
    "az acr config authentication-as-arm update --registry {registry_name} --status enabled",
    _LEARN + "container-registry/container-registry-disable-authentication-as-arm",
    (Only.ACR,),
)
_PRINCIPAL_SYSTEM = _S(
    "principal-system",
    "System-assigned identity: read its principal id (the app needs one: `az containerapp "
    "identity assign --system-assigned` creates it)",
    f"principal=$(az containerapp identity show {_APP} --query principalId -o tsv)",
    _LEARN + "container-apps/managed-identity",
    (Only.ACR,),
)
_PRINCIPAL_USER = _S(
    "principal-user",
    "User-assigned identity: read the principal id of the identity the registry entry names",
    "principal=$(az identity show --ids "
    f"\"$(az containerapp registry list {_APP} --query \"[?server=='{{registry}}'].identity "
    '| [0]" -o tsv)" --query principalId -o tsv)',
    _CLI + "identity#az-identity-show",
    (Only.ACR,),
)
_ROLE_ASSIGNMENT = _S(
    "acr-pull-role",
    "Grant that identity pull rights on the registry: AcrPull, or Container Registry Repository "
    "Reader in ABAC mode (the command picks it). You need Owner, User Access Administrator or "
    "Role Based Access Control Administrator on the registry; the role can take up to 10 "
    "minutes to apply",
    'az role assignment create --assignee-object-id "$principal" '
    f"--assignee-principal-type ServicePrincipal --role {_PULL_ROLE} --scope {_ACR_ID}",
    _LEARN + "container-registry/container-registry-rbac-abac-repository-permissions",
    (Only.ACR,),
)
_REGISTRY_SET_IDENTITY = _S(
    "registry-set-identity",
    "Make the app pull with the identity: `system` as here, or the user-assigned identity's "
    "resource id",
    f"az containerapp registry set {_APP} --server {{registry}} --identity system",
    _CLI + "containerapp/registry#az-containerapp-registry-set",
    (Only.ACR,),
)
_REGISTRY_SET_ADMIN = _S(
    "registry-set-admin",
    "Admin user instead: store the registry's current password (rotated keys cause this); the "
    "command reads it from the registry and never prints it",
    f"az containerapp registry set {_APP} --server {{registry}} "
    '--username "$(az acr credential show --name {registry_name} --query username -o tsv)" '
    "--password \"$(az acr credential show --name {registry_name} --query 'passwords[0].value' "
    '-o tsv)"',
    _LEARN + "container-registry/container-registry-authentication#admin-account",
    (Only.ACR,),
)
_REGISTRY_SET_PASSWORD = _S(
    "registry-set-password",
    "Store the registry's current credentials: read the password or token into "
    "REGISTRY_PASSWORD first (`read -rs REGISTRY_PASSWORD`) so it stays out of your shell "
    "history",
    f"az containerapp registry set {_APP} --server {{registry}} --username <registry-user> "
    '--password "$REGISTRY_PASSWORD"',
    _CLI + "containerapp/registry#az-containerapp-registry-set",
    (Only.NOT_ACR,),
)
_PRIVATE_NAME = _S(
    "console-nslookup",
    "In the console, resolve the registry: a private address (10.x, 172.16-31.x, 192.168.x) "
    "means the private endpoint answers; a public one or none means the private DNS zone is "
    "missing or not linked",
    "nslookup {registry}",
    _LEARN + "container-apps/container-debug-console",
    console=True,
)
_DNS_ZONE_LINKS = _S(
    "dns-zone-links",
    "Private endpoint: the zone privatelink.azurecr.io must be linked to the environment's VNet "
    "(state Completed)",
    "az network private-dns link vnet list --resource-group <dns-zone-resource-group> "
    '--zone-name privatelink.azurecr.io --query "[].{{vnet:virtualNetwork.id, '
    'state:virtualNetworkLinkState}}" -o table',
    _LEARN + "container-registry/container-registry-private-link",
    (Only.ACR,),
)
_DNS_ZONE_RECORDS = _S(
    "dns-zone-records",
    "The zone must hold both names the registry uses: {registry_name} (the registry) and "
    "{registry_name}.<region>.data (its data endpoint, where layers come from)",
    "az network private-dns record-set a list --resource-group <dns-zone-resource-group> "
    "--zone-name privatelink.azurecr.io "
    "--query \"[?starts_with(name, '{registry_name}')].{{name:name, ip:aRecords[0].ipv4Address}}\" "
    "-o table",
    _LEARN + "container-registry/container-registry-private-link",
    (Only.ACR,),
)
_ENV_SUBNET = _S(
    "env-subnet",
    "Find the environment's subnet (nothing printed: the environment has no VNet of yours and "
    "uses Azure DNS)",
    _SUBNET,
    _LEARN + "container-apps/custom-virtual-networks",
)
_DNS_ZONE_LINK_CREATE = _S(
    "dns-zone-link-create",
    "No link names that VNet: link the zone to it (needs Private DNS Zone Contributor on the "
    "zone; the subnet step sets $subnet)",
    "az network private-dns link vnet create --resource-group <dns-zone-resource-group> "
    "--zone-name privatelink.azurecr.io --name {registry_name}-link "
    '--virtual-network "${{subnet%/subnets/*}}" --registration-enabled false',
    _CLI + "network/private-dns/link/vnet#az-network-private-dns-link-vnet-create",
    (Only.ACR,),
)
_CHECK_HEALTH = _S(
    "acr-check-health",
    "Check the registry's health and reachability from a machine with Docker and the CLI",
    "az acr check-health --name {registry_name} --yes",
    _LEARN + "container-registry/container-registry-check-health",
    (Only.ACR,),
)
_ACR_ENDPOINTS = _S(
    "acr-endpoints",
    "Layers come from other hosts than {registry}: the registry's data endpoints (when dedicated "
    "data endpoints are on) or *.blob.core.windows.net; list them and test them the same way",
    "az acr show-endpoints --name {registry_name}",
    _LEARN + "container-registry/container-registry-firewall-access-rules",
    (Only.ACR,),
)
_OUTBOUND_RULES = _S(
    "outbound-rules",
    "Allow outbound HTTPS (443) from the environment's subnet to the registry and its data "
    "endpoints in NSGs, route tables (UDR) and firewalls (service tags AzureContainerRegistry "
    "and Storage for ACR)",
    None,
    _LEARN + "container-apps/firewall-integration",
)
_LOGS = _S(
    "system-logs",
    "Read the revision's recent system log lines for the error that came before",
    f"az containerapp logs show {_APP} --type system --tail 50",
    _CLI + "containerapp/logs#az-containerapp-logs-show",
)
_SHOW_TAGS = _S(
    "acr-tags",
    "List the newest tags of {repository}",
    "az acr repository show-tags --name {registry_name} --repository {repository} "
    "--orderby time_desc --top 20 -o table",
    _CLI + "acr/repository#az-acr-repository-show-tags",
    (Only.ACR,),
)
_MANIFEST = _S(
    "docker-manifest",
    "Check the reference from a machine that can reach the registry",
    "docker manifest inspect {image}",
    "https://docs.docker.com/reference/cli/docker/manifest/inspect/",
    (Only.NOT_ACR,),
)
_UPDATE_IMAGE = _S(
    "update-image",
    "Point the container at a tag that exists (or push the missing tag first); this creates a new "
    "revision. An init container's image is changed with `az containerapp update --yaml`",
    f"az containerapp update {_APP} --container-name {_CONTAINER} "
    "--image {registry}/{repository}:<existing-tag>",
    _CLI + "containerapp#az-containerapp-update",
)

_ROWS: tuple[CauseInfo, ...] = (
    CauseInfo(
        Cause.IMAGE_NOT_FOUND,
        "Image or tag not found",
        transient=False,
        summary="The registry has no {image}: the repository, tag or digest does not exist.",
        steps=(
            _SHOW_TAGS,
            _S(
                "acr-repositories",
                "Check the repository name is spelled as pushed",
                "az acr repository list --name {registry_name} -o table",
                _CLI + "acr/repository#az-acr-repository-list",
                (Only.ACR,),
            ),
            _MANIFEST,
            _UPDATE_IMAGE,
        ),
    ),
    CauseInfo(
        Cause.REGISTRY_UNAUTHORIZED,
        "Registry rejected the credentials (401)",
        transient=False,
        summary=(
            "{registry} answered 401 Unauthorized: the credentials are wrong, rotated or missing, "
            "or the managed identity has no AcrPull role."
        ),
        steps=(
            _REGISTRY_CONFIG,
            _ACR_AUTH_SETTINGS,
            _ACR_ARM_TOKENS,
            _PRINCIPAL_SYSTEM,
            _PRINCIPAL_USER,
            _ROLE_ASSIGNMENT,
            _REGISTRY_SET_IDENTITY,
            _REGISTRY_SET_ADMIN,
            _REGISTRY_SET_PASSWORD,
            _RESTART_AFTER_CREDENTIALS,
            _S(
                "private-endpoint-dns",
                "Private endpoint registry: a private DNS zone that is missing or not linked also "
                "answers 401; resolve {registry} from the debug console as the dns-failure steps do",
                None,
                _LEARN + "container-registry/container-registry-private-link",
                (Only.ACR,),
            ),
        ),
    ),
    CauseInfo(
        Cause.REPOSITORY_ACCESS_DENIED,
        "Repository missing or access denied",
        transient=False,
        summary=(
            "The registry refused {image}: either the repository does not exist (check the "
            "spelling) or the app's identity may not read it. The registry answers both the same."
        ),
        steps=(
            _S(
                "acr-repository",
                "Check that the repository exists (an error here means it does not: fix the name)",
                "az acr repository show --name {registry_name} --repository {repository} -o table",
                _CLI + "acr/repository#az-acr-repository-show",
                (Only.ACR,),
            ),
            _S(
                "docker-manifest",
                "Check that the repository exists and is spelled as pushed",
                "docker manifest inspect {image}",
                "https://docs.docker.com/reference/cli/docker/manifest/inspect/",
                (Only.NOT_ACR,),
            ),
            _REGISTRY_CONFIG,
            _ACR_AUTH_SETTINGS,
            _PRINCIPAL_SYSTEM,
            _PRINCIPAL_USER,
            _ROLE_ASSIGNMENT,
            _REGISTRY_SET_PASSWORD,
            _RESTART_AFTER_CREDENTIALS,
        ),
    ),
    CauseInfo(
        Cause.REGISTRY_FIREWALL,
        "Blocked by the registry's firewall (403)",
        transient=False,
        summary=(
            "{registry} refused the connection from {client_ip}: its firewall, disabled public "
            "access or private-endpoint-only setting blocks the Container Apps environment."
        ),
        steps=(
            _S(
                "acr-network",
                "See the registry's network settings: IP rules need the Premium SKU and apply only "
                "while publicNetworkAccess is Enabled",
                'az acr show --name {registry_name} --query "{{sku:sku.name, '
                "publicNetworkAccess:publicNetworkAccess, "
                "defaultAction:networkRuleSet.defaultAction, "
                'ipRules:networkRuleSet.ipRules[].ipAddressOrRange}}" -o json',
                _LEARN + "container-registry/container-registry-access-selected-networks",
                (Only.ACR,),
            ),
            _S(
                "outbound-ips",
                "Find the app's outbound IP addresses (the log does not name the one the registry "
                "saw; with a NAT gateway or firewall it is that device's address)",
                f"az containerapp show {_APP} --query properties.outboundIpAddresses -o tsv",
                _CLI + "containerapp#az-containerapp-show",
                (Only.NO_CLIENT_IP,),
            ),
            _S(
                "acr-ip-rule",
                "Premium with public access enabled: allow the address in the registry's firewall "
                "(you need Contributor on the registry)",
                "az acr network-rule add --name {registry_name} --ip-address {client_ip}",
                _LEARN + "container-registry/container-registry-access-selected-networks",
                (Only.ACR,),
            ),
            _S(
                "acr-private-only",
                "Public access disabled: the environment must reach {registry} through a private "
                "endpoint in its VNet. Container Apps is not one of ACR's trusted services, so "
                "allowing trusted services does not help",
                None,
                _LEARN + "container-registry/allow-access-trusted-services",
                (Only.ACR,),
            ),
            _debug_console("debug-console"),
            _PRIVATE_NAME,
            _S(
                "registry-access-rules",
                "Allow the address in the registry's own access rules",
                None,
                TROUBLESHOOTING_URL,
                (Only.NOT_ACR,),
            ),
            _restart(
                "restart-revision",
                "Pull again now instead of waiting for the back-off: restart the revision",
            ),
        ),
    ),
    CauseInfo(
        Cause.DNS_FAILURE,
        "Registry host does not resolve (DNS)",
        transient=False,
        summary="The name {registry} could not be resolved (DNS server {dns_server}).",
        steps=(
            _debug_console("debug-console"),
            _S(
                "console-nslookup",
                "In the console, resolve the registry the way the pull does",
                "nslookup {registry}",
                _LEARN + "container-apps/container-debug-console",
                console=True,
            ),
            _ENV_SUBNET,
            _S(
                "vnet-dns-servers",
                "See the VNet's DNS servers (empty: Azure DNS). Custom DNS servers must forward "
                "what they do not know, privatelink.azurecr.io included, to 168.63.129.16",
                'az network vnet show --ids "${{subnet%/subnets/*}}" '
                "--query dhcpOptions.dnsServers -o tsv",
                _LEARN + "container-apps/networking",
                (Only.OTHER_DNS,),
            ),
            _DNS_ZONE_LINKS,
            _DNS_ZONE_RECORDS,
            _DNS_ZONE_LINK_CREATE,
            _S(
                "registry-spelling",
                "Check that the registry name in the image reference is spelled right",
                None,
                TROUBLESHOOTING_URL,
            ),
        ),
    ),
    CauseInfo(
        Cause.NETWORK_TIMEOUT,
        "Connection to the registry timed out",
        transient=True,
        summary="The connection to {registry} timed out: traffic is dropped on the way.",
        steps=(
            _debug_console("debug-console"),
            _S(
                "console-nc",
                "In the console, open a TCP connection to the registry ('succeeded' means the "
                "path to its login server is open)",
                "nc -vz -w 5 {registry} 443",
                _LEARN + "container-apps/container-debug-console",
                console=True,
            ),
            _ACR_ENDPOINTS,
            _OUTBOUND_RULES,
            _CHECK_HEALTH,
        ),
    ),
    CauseInfo(
        Cause.CONNECTION_FAILED,
        "Connection to the registry refused or reset",
        transient=True,
        summary=(
            "The connection to {registry} was refused, reset or cut: a firewall, proxy or the "
            "registry dropped it."
        ),
        steps=(
            _debug_console("debug-console"),
            _S(
                "console-wget",
                "In the console, send a request to the registry (an answer of 401 Unauthorized "
                "means the path works; a reset or refusal names the hop that drops it)",
                "wget -S -O /dev/null https://{registry}/v2/",
                _LEARN + "container-apps/container-debug-console",
                console=True,
            ),
            _ACR_ENDPOINTS,
            _S(
                "outbound-resets",
                "Check firewalls, NAT gateways and proxies on the outbound path for resets",
                None,
                _LEARN + "container-apps/firewall-integration",
            ),
            _CHECK_HEALTH,
        ),
    ),
    CauseInfo(
        Cause.TLS_ERROR,
        "TLS or certificate error talking to the registry",
        transient=False,
        summary=(
            "The TLS connection to {registry} failed: an untrusted or wrong certificate "
            "(often a TLS-inspecting firewall) or a registry that speaks plain HTTP."
        ),
        steps=(
            _debug_console("debug-console"),
            _S(
                "console-openssl",
                "In the console, look at the certificate the environment is served: an issuer "
                "that is not the registry's public CA means a TLS-inspecting device",
                "openssl s_client -connect {registry}:443 -servername {registry} -brief </dev/null",
                _LEARN + "container-apps/container-debug-console",
                console=True,
            ),
            _S(
                "tls-exempt",
                "Exempt the registry from TLS inspection on the outbound firewall, or serve the "
                "registry over HTTPS with a publicly trusted certificate",
                None,
                _LEARN + "container-apps/firewall-integration",
            ),
        ),
    ),
    CauseInfo(
        Cause.REGISTRY_UNAVAILABLE,
        "Registry returned a server error (5xx)",
        transient=True,
        summary="{registry} answered {http_status}: the registry itself is failing.",
        steps=(
            _CHECK_HEALTH,
            _S(
                "service-health",
                "Check Azure Service Health for Container Registry in the registry's region",
                None,
                _LEARN + "service-health/overview",
                (Only.ACR,),
            ),
            _S(
                "provider-status",
                "Check the registry provider's status page",
                None,
                TROUBLESHOOTING_URL,
                (Only.NOT_ACR,),
            ),
            _restart("restart-revision", "When it recovers, restart the revision"),
        ),
    ),
    CauseInfo(
        Cause.RATE_LIMITED,
        "Registry rate limit (429)",
        transient=True,
        summary="{registry} is rate limiting pulls (429 Too Many Requests).",
        steps=(
            _S(
                "acr-throttling",
                "ACR throttles requests beyond its SKU's limits: the pulls are retried with "
                "back-off; starting fewer replicas at once lowers the rate. See the SKU",
                "az acr show --name {registry_name} --query sku.name -o tsv",
                _LEARN + "container-registry/container-registry-skus",
                (Only.ACR,),
            ),
            _S(
                "acr-sku",
                "If throttling persists, a higher SKU raises the limits (Standard, then Premium)",
                "az acr update --name {registry_name} --sku Premium",
                _LEARN + "container-registry/container-registry-skus",
                (Only.ACR,),
            ),
            _S(
                "acr-cache-rule",
                "Pull {repository} through an artifact cache rule in an Azure Container Registry "
                "of yours (Microsoft's fix for public registries' limits; add --cred-set for "
                "authenticated upstream pulls)",
                "az acr cache create --registry <your-acr> --name {cache_rule} "
                "--source-repo {registry}/{repository} --target-repo {repository}",
                _LEARN + "container-registry/container-registry-artifact-cache",
                (Only.CACHEABLE,),
            ),
            _S(
                "use-cache",
                "Then pull from the cache (the app needs AcrPull on <your-acr>: see the "
                "registry-unauthorized steps); this creates a new revision",
                f"az containerapp update {_APP} --container-name {_CONTAINER} "
                "--image <your-acr>.azurecr.io/{repository}:{tag}",
                _LEARN + "container-registry/buffer-gate-public-content",
                (Only.CACHEABLE,),
            ),
            _S(
                "registry-set-password",
                "Or pull with an account: authenticated pulls have a higher limit. Read its "
                "access token into REGISTRY_PASSWORD first (`read -rs REGISTRY_PASSWORD`)",
                f"az containerapp registry set {_APP} --server {{registry}} "
                '--username <registry-user> --password "$REGISTRY_PASSWORD"',
                _LEARN + "container-registry/buffer-gate-public-content",
                (Only.NOT_ACR,),
            ),
            _S(
                "fewer-replicas",
                "Fewer replicas starting at once lowers the pull rate (scale rules, min replicas)",
                None,
                _LEARN + "container-apps/scale-app",
                (Only.NOT_ACR,),
            ),
        ),
    ),
    CauseInfo(
        Cause.PULL_CANCELED,
        "Image pull was canceled",
        transient=True,
        summary=(
            "The pull of {image} was canceled before it finished, usually after a timeout or "
            "because the replica was replaced."
        ),
        steps=(
            _LOGS,
            _S(
                "slim-image",
                "Large images pull slowly: slim the image or use a registry in the same region",
                None,
                _LEARN + "container-registry/container-registry-best-practices",
            ),
        ),
    ),
    CauseInfo(
        Cause.PLATFORM_MISMATCH,
        "No image for linux/amd64",
        transient=False,
        summary=(
            "{image} has no linux/amd64 variant (Container Apps runs linux/amd64), e.g. it was "
            "built on an ARM machine."
        ),
        steps=(
            _S(
                "docker-manifest",
                "See which platforms the image has",
                "docker manifest inspect {image}",
                "https://docs.docker.com/reference/cli/docker/manifest/inspect/",
            ),
            _S(
                "buildx-amd64",
                "Build and push a linux/amd64 image",
                "docker buildx build --platform linux/amd64 -t {image} --push .",
                "https://docs.docker.com/reference/cli/docker/buildx/build/",
            ),
            _S(
                "acr-build-amd64",
                "Or build it in the registry",
                "az acr build --registry {registry_name} --platform linux/amd64 "
                "--image {repository}:{tag} .",
                _CLI + "acr#az-acr-build",
                (Only.ACR,),
            ),
            _restart("restart-revision", "Restart the revision so it pulls the rebuilt tag"),
        ),
    ),
    CauseInfo(
        Cause.INVALID_IMAGE_REFERENCE,
        "Image reference is malformed",
        transient=False,
        summary="The image reference {image} cannot be parsed (spaces, upper case, bad tag).",
        steps=(
            _S(
                "show-images",
                "See the image references of the app's containers and init containers",
                f"az containerapp show {_APP} "
                '--query "properties.template.{{containers: containers[].{{name:name, image:image}}, '
                'initContainers: initContainers[].{{name:name, image:image}}}}" -o json',
                _LEARN + "container-apps/containers",
            ),
            _S(
                "update-reference",
                "Set a valid reference (lower-case registry/repository, then :tag or "
                "@sha256:digest) on the container the previous step names; an init container's "
                "image is changed with `az containerapp update --yaml`",
                f"az containerapp update {_APP} --container-name <container> "
                "--image <registry>/<repository>:<tag>",
                _CLI + "containerapp#az-containerapp-update",
            ),
        ),
    ),
    CauseInfo(
        Cause.IMAGE_UNPACK_FAILED,
        "Image downloaded but could not be unpacked",
        transient=False,
        summary=(
            "{image} was downloaded but could not be stored or extracted (disk full, a corrupt "
            "or unsupported layer)."
        ),
        steps=(
            _S(
                "docker-manifest-layers",
                "See the image's layers and their sizes without pulling it",
                "docker manifest inspect --verbose {image}",
                "https://docs.docker.com/reference/cli/docker/manifest/inspect/",
            ),
            _S(
                "more-disk",
                "Slim the image, or run the app on a workload profile with more disk",
                None,
                _LEARN + "container-apps/workload-profiles-overview",
            ),
            _restart(
                "restart-revision",
                "A corrupt layer needs a new push of the image; then restart the revision so it "
                "pulls it",
            ),
        ),
    ),
    CauseInfo(
        Cause.UNKNOWN,
        "Image pull failed (cause not in the log line)",
        transient=False,
        summary=(
            "Pulling {image} failed, but this log line does not say why; the detailed error is "
            "in the revision's other system log lines or the deployment output."
        ),
        steps=(
            _LOGS,
            _REGISTRY_CONFIG,
            _SHOW_TAGS,
            _S(
                "classify-locally",
                "Run the triage locally on any detailed line: python -m pullwatch classify "
                '"<log line>"',
                None,
                TROUBLESHOOTING_URL,
            ),
        ),
    ),
)

CATALOG: Mapping[Cause, CauseInfo] = MappingProxyType({row.cause: row for row in _ROWS})

# --- Container Apps jobs ----------------------------------------------------------------------
# A job is `az containerapp job ...`, keeps its registries and identity on the job resource and
# has no revision: a new execution pulls again. A job alert shows each step of its cause in its
# job form (``job_step``): the commands' app groups become the job groups (each with its own
# reference page), ``<app>`` becomes ``<job>``; steps that need a revision are replaced below.
_JOB = "--name <job> --resource-group <resource-group>"
_JOB_EXECUTIONS = _S(
    "job-executions",
    "List the job's recent executions and whether they failed (a failed pull fails the "
    "execution); `az containerapp job execution show --name <job> --resource-group <resource-group> --job-execution-name <execution>` shows one",
    f"az containerapp job execution list {_JOB} "
    '--query "[].{{name:name, status:properties.status, start:properties.startTime}}" -o table',
    _CLI + "containerapp/job/execution#az-containerapp-job-execution-list",
)
_JOB_START = _S(
    "job-start",
    "Pull again now: start an execution (a scheduled or event-driven job also pulls at its next "
    "run; registry and secret changes apply to executions that start after them), then list "
    "the executions to see it succeed",
    f"az containerapp job start {_JOB}",
    _CLI + "containerapp/job#az-containerapp-job-start",
)
# Job forms that are not a mechanical rewrite of the app step (by the app step's id).
JOB_STEPS: Mapping[str, StepTemplate] = MappingProxyType(
    {
        "restart-revision": _JOB_START,
        "system-logs": _JOB_EXECUTIONS,
        "debug-console": _S(
            "debug-console",
            "Open the debug console on a healthy revision of a Container App in the job's "
            "environment (a job has no revision to attach to; the app shares the environment's "
            "network and DNS)",
            "az containerapp debug --name <environment-app> --resource-group <resource-group> "
            '--revision "$(az containerapp revision list --name <environment-app> '
            "--resource-group <resource-group> "
            '--query "[?properties.healthState==\'Healthy\'] | [0].name" -o tsv)"',
            _LEARN + "container-apps/container-debug-console",
        ),
    }
)
# app command group -> job command group
_JOB_GROUPS: tuple[tuple[str, str], ...] = (
    ("az containerapp registry ", "az containerapp job registry "),
    ("az containerapp identity ", "az containerapp job identity "),
    ("az containerapp show ", "az containerapp job show "),
    ("az containerapp update ", "az containerapp job update "),
)
_JOB_WORDS: tuple[tuple[str, str], ...] = (
    ("this creates a new revision", "the job's next execution uses it"),
    ("the app's ", "the job's "),
    ("the app ", "the job "),
    ("The app ", "The job "),
)


def job_step(step: StepTemplate) -> StepTemplate:
    """The form of ``step`` a job alert shows (see ``JOB_STEPS`` and ``_JOB_GROUPS``)."""
    if step.id in JOB_STEPS:
        return JOB_STEPS[step.id]
    text, command, source = step.text, step.command, step.source
    for app_group, job_group in _JOB_GROUPS:
        text = text.replace(app_group.rstrip(), job_group.rstrip())
        if command:
            command = command.replace(app_group, job_group)
    if command and command.startswith("az containerapp job ") and source.startswith(_CLI):
        # the reference page of the job group: .../containerapp/job/registry#az-containerapp-job-...
        path, _, anchor = source[len(_CLI) :].partition("#")
        path = path.replace("containerapp", "containerapp/job", 1)
        source = f"{_CLI}{path}#{anchor.replace('az-containerapp-', 'az-containerapp-job-', 1)}"
    for app_words, job_words in _JOB_WORDS:
        text = text.replace(app_words, job_words)
    if command:
        command = command.replace("<app>", "<job>")
    if text == step.text and command == step.command:
        return step
    return StepTemplate(step.id, text, command, source, step.only, step.console)


# A deployment Azure refused (the Activity Log): no revision exists to restart or to read the
# logs of; once the cause is fixed, the deployment is made again.
DEPLOY_AGAIN = _S(
    "deploy-again",
    "Deploy again, with the command or pipeline that failed: Azure checks the image when it "
    "creates the revision (or the job's execution), and pullwatch resolves this alert when a "
    "later write succeeds",
    None,
    _LEARN + "container-apps/revisions",
)


def deployment_steps(steps: tuple[StepTemplate, ...]) -> tuple[StepTemplate, ...]:
    """A cause's steps as an alert about a refused deployment shows them: without the steps
    that need a revision, ending with deploying again."""
    kept = tuple(
        step
        for step in steps
        if "<revision>" not in (step.command or "")
        and step.id not in ("system-logs", "job-start", "job-executions")
    )
    return (*kept, DEPLOY_AGAIN)


def job_steps(info: CauseInfo) -> tuple[StepTemplate, ...]:
    """A cause's steps as a job alert shows them, ending with the job's executions."""
    steps = [job_step(step) for step in info.steps]
    if not any(step.id == _JOB_EXECUTIONS.id for step in steps):
        steps.append(_JOB_EXECUTIONS)
    return tuple(steps)


def cause_info(cause: Cause | str) -> CauseInfo:
    """The catalog row of ``cause`` (an enum member or its id); unknown ids give ``UNKNOWN``."""
    try:
        return CATALOG[Cause(cause)]
    except ValueError:
        return CATALOG[Cause.UNKNOWN]


def is_transient(cause: Cause | str) -> bool:
    return cause_info(cause).transient
