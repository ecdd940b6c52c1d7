"""The cause catalog: one row per cause with its title, transient flag, summary and remediation.

This table is the single source of truth for what a cause *means* and how to fix it. The rules
that recognise a cause in log text live in ``classifiers.rules``; adding a cause is one row here,
its rules there, and its test messages.

Remediation text uses ``{field}`` placeholders filled from what the log line holds (registry,
repository, tag, image, client_ip, dns_server, registry_name). A missing field is shown as
``<field>``; ``<app>``, ``<resource-group>`` and ``<environment>`` are left for the caller (who
knows the revision) to fill in.
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
    """When a remediation step applies."""

    ALWAYS = "always"
    ACR = "acr"  # the registry is an Azure Container Registry (*.azurecr.io and sovereign clouds)
    NOT_ACR = "not-acr"


@dataclass(frozen=True)
class StepTemplate:
    text: str
    command: str | None = None
    only: Only = Only.ALWAYS


@dataclass(frozen=True)
class CauseInfo:
    cause: Cause
    title: str
    transient: bool
    summary: str  # one line; may use {image} {registry} {client_ip} {dns_server} {http_status}
    steps: tuple[StepTemplate, ...]


_S = StepTemplate
_APP = "--name <app> --resource-group <resource-group>"
_SHOW_REGISTRIES = _S(
    "See which registry credentials the app uses",
    f"az containerapp registry list {_APP} -o table",
)
_EXEC = f"az containerapp exec {_APP} --command"

_ROWS: tuple[CauseInfo, ...] = (
    CauseInfo(
        Cause.IMAGE_NOT_FOUND,
        "Image or tag not found",
        transient=False,
        summary="The registry has no {image}: the repository, tag or digest does not exist.",
        steps=(
            _S(
                "List the newest tags that exist in the repository",
                "az acr repository show-tags --name {registry_name} --repository {repository} "
                "--orderby time_desc --top 20 -o table",
                Only.ACR,
            ),
            _S(
                "Check the repository name is spelled as pushed",
                "az acr repository list --name {registry_name} -o table",
                Only.ACR,
            ),
            _S(
                "Check the reference from a machine that can reach the registry",
                "docker manifest inspect {image}",
                Only.NOT_ACR,
            ),
            _S(
                "Point the app at a tag that exists (or push the missing tag first)",
                f"az containerapp update {_APP} --image {{registry}}/{{repository}}:<existing-tag>",
            ),
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
            _SHOW_REGISTRIES,
            _S(
                "Managed identity: grant it AcrPull on the registry",
                "az role assignment create --role AcrPull --assignee <identity-principal-id> "
                "--scope $(az acr show --name {registry_name} --query id -o tsv)",
                Only.ACR,
            ),
            _S(
                "Managed identity: make the app pull with it",
                f"az containerapp registry set {_APP} --server {{registry}} "
                "--identity <identity-resource-id-or-system>",
                Only.ACR,
            ),
            _S(
                "Admin user: the key may have been rotated; set the current password",
                f"az containerapp registry set {_APP} --server {{registry}} "
                "--username {registry_name} --password "
                "\"$(az acr credential show --name {registry_name} --query 'passwords[0].value' "
                '-o tsv)"',
                Only.ACR,
            ),
            _S(
                "Username and password: update the secret that holds the registry password",
                f"az containerapp secret set {_APP} --secrets <registry-password-secret>=<password>",
            ),
            _S(
                "Private endpoint registry: a broken private DNS link also shows as 401; check "
                "that the name resolves to a private IP from the app console",
                f'{_EXEC} "nslookup {{registry}}"',
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
                "Check that the repository exists",
                "az acr repository show --name {registry_name} --repository {repository} -o table",
                Only.ACR,
            ),
            _S(
                "Check that the repository exists and is spelled as pushed",
                "docker manifest inspect {image}",
                Only.NOT_ACR,
            ),
            _SHOW_REGISTRIES,
            _S(
                "Grant the app's identity AcrPull on the registry (or fix the token's scope map)",
                "az role assignment create --role AcrPull --assignee <identity-principal-id> "
                "--scope $(az acr show --name {registry_name} --query id -o tsv)",
                Only.ACR,
            ),
            _S(
                "Private repository elsewhere: give the app credentials for {registry}",
                f"az containerapp registry set {_APP} --server {{registry}} "
                "--username <user> --password <token>",
                Only.NOT_ACR,
            ),
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
                "See the registry's network settings",
                'az acr show --name {registry_name} --query "{{public:publicNetworkAccess, '
                'default:networkRuleSet.defaultAction}}" -o table',
                Only.ACR,
            ),
            _S(
                "Find the app's outbound IP addresses",
                f"az containerapp show {_APP} --query properties.outboundIpAddresses -o tsv",
            ),
            _S(
                "Allow the outbound IP in the registry firewall",
                "az acr network-rule add --name {registry_name} --ip-address {client_ip}",
                Only.ACR,
            ),
            _S(
                "Private endpoint only: the environment's VNet must resolve {registry} to the "
                "private endpoint (zone privatelink.azurecr.io linked to the VNet)",
                f'{_EXEC} "nslookup {{registry}}"',
            ),
            _S(
                "Other registries: allow the outbound IP in the registry's access rules",
                None,
                Only.NOT_ACR,
            ),
        ),
    ),
    CauseInfo(
        Cause.DNS_FAILURE,
        "Registry host does not resolve (DNS)",
        transient=False,
        summary="The name {registry} could not be resolved (DNS server {dns_server}).",
        steps=(
            _S(
                "Resolve the registry from inside the environment",
                f'{_EXEC} "nslookup {{registry}}"',
            ),
            _S(
                "Custom DNS on the VNet: forward Azure names to 168.63.129.16",
                "az network vnet show --resource-group <vnet-resource-group> --name <vnet> "
                "--query dhcpOptions.dnsServers",
            ),
            _S(
                "Private endpoint: link the private DNS zone to the environment's VNet",
                "az network private-dns link vnet list --resource-group <dns-zone-resource-group> "
                "--zone-name privatelink.azurecr.io -o table",
                Only.ACR,
            ),
            _S("Check the registry name in the image reference is spelled right", None),
        ),
    ),
    CauseInfo(
        Cause.NETWORK_TIMEOUT,
        "Connection to the registry timed out",
        transient=True,
        summary="The connection to {registry} timed out: traffic is dropped on the way.",
        steps=(
            _S(
                "Test the connection from inside the environment",
                f'{_EXEC} "curl -sv --max-time 10 https://{{registry}}/v2/"',
            ),
            _S(
                "Allow outbound HTTPS (443) to the registry and its data endpoints in NSGs, "
                "route tables (UDR) and firewalls",
                None,
            ),
            _S(
                "Check the registry's health from a machine that can reach it",
                "az acr check-health --name {registry_name} --yes",
                Only.ACR,
            ),
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
            _S(
                "Test the connection from inside the environment",
                f'{_EXEC} "curl -sv --max-time 10 https://{{registry}}/v2/"',
            ),
            _S(
                "Check firewalls, NAT gateways and proxies on the outbound path for resets",
                None,
            ),
            _S(
                "If it persists, check the registry's health",
                "az acr check-health --name {registry_name} --yes",
                Only.ACR,
            ),
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
            _S(
                "Look at the certificate the environment is served",
                f'{_EXEC} "openssl s_client -connect {{registry}}:443 -servername {{registry}}"',
            ),
            _S(
                "Exempt the registry from TLS inspection on the outbound firewall, or serve the "
                "registry over HTTPS with a publicly trusted certificate",
                None,
            ),
        ),
    ),
    CauseInfo(
        Cause.REGISTRY_UNAVAILABLE,
        "Registry returned a server error (5xx)",
        transient=True,
        summary="{registry} answered {http_status}: the registry itself is failing.",
        steps=(
            _S(
                "Check the registry's health",
                "az acr check-health --name {registry_name} --yes",
                Only.ACR,
            ),
            _S("Check Azure Service Health for the registry's region", None, Only.ACR),
            _S("Check the registry provider's status page", None, Only.NOT_ACR),
            _S(
                "When it recovers, restart the revision",
                "az containerapp revision restart --name <app> --resource-group <resource-group> "
                "--revision <revision>",
            ),
        ),
    ),
    CauseInfo(
        Cause.RATE_LIMITED,
        "Registry rate limit (429)",
        transient=True,
        summary="{registry} is rate limiting pulls (429 Too Many Requests).",
        steps=(
            _S(
                "Import the image into your own Azure Container Registry and pull it from there",
                "az acr import --name <your-acr> --source {image} --image {repository}:{tag}",
            ),
            _S(
                "Or pull with credentials (Docker Hub limits anonymous pulls hardest)",
                f"az containerapp registry set {_APP} --server {{registry}} "
                "--username <user> --password <access-token>",
            ),
            _S("Fewer replicas starting at once lowers the pull rate (scale rules, min replicas)"),
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
            _S(
                "Look at the revision's earlier system log lines for the error that preceded it",
                "az containerapp logs show --name <app> --resource-group <resource-group> "
                "--type system --tail 50",
            ),
            _S("Large images pull slowly: slim the image or use a registry in the same region"),
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
            _S("See which platforms the image has", "docker manifest inspect {image}"),
            _S(
                "Build and push a linux/amd64 image",
                "docker buildx build --platform linux/amd64 -t {image} --push .",
            ),
            _S(
                "Or build it in the registry",
                "az acr build --registry {registry_name} --platform linux/amd64 "
                "--image {repository}:{tag} .",
                Only.ACR,
            ),
        ),
    ),
    CauseInfo(
        Cause.INVALID_IMAGE_REFERENCE,
        "Image reference is malformed",
        transient=False,
        summary="The image reference {image} cannot be parsed (spaces, upper case, bad tag).",
        steps=(
            _S(
                "See the image references the app uses",
                f'az containerapp show {_APP} --query "properties.template.containers[].image"',
            ),
            _S(
                "Set a valid reference: lower-case registry/repository, then :tag or @sha256:digest",
                f"az containerapp update {_APP} --image <registry>/<repository>:<tag>",
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
            _S("See the image's layers and sizes", "docker history {image}"),
            _S(
                "Slim the image, or give the app a workload profile with more disk",
                None,
            ),
            _S(
                "Rebuild and push the image (a corrupt layer needs a new push), then create a "
                "new revision",
                f"az containerapp update {_APP} --image {{image}}",
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
            _S(
                "Read the revision's recent system logs for a 'Failed to pull image' line",
                "az containerapp logs show --name <app> --resource-group <resource-group> "
                "--type system --tail 50",
            ),
            _SHOW_REGISTRIES,
            _S(
                "Check that the image exists",
                "az acr repository show-tags --name {registry_name} --repository {repository} "
                "--orderby time_desc --top 20 -o table",
                Only.ACR,
            ),
            _S(
                "Run the triage locally on any detailed line: python -m pullwatch classify "
                '"<log line>"',
                None,
            ),
        ),
    ),
)

CATALOG: Mapping[Cause, CauseInfo] = MappingProxyType({row.cause: row for row in _ROWS})


def cause_info(cause: Cause | str) -> CauseInfo:
    """The catalog row of ``cause`` (an enum member or its id); unknown ids give ``UNKNOWN``."""
    try:
        return CATALOG[Cause(cause)]
    except ValueError:
        return CATALOG[Cause.UNKNOWN]


def is_transient(cause: Cause | str) -> bool:
    return cause_info(cause).transient
