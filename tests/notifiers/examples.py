"""Fixed, realistic alerts used by the notifier tests and golden files (one per message kind)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from classifiers import Cause
from classifiers.remediation import fill_values, steps_for
from notifiers import Alert, AlertKind, Finding, Link, Step

FIRST = datetime(2026, 3, 14, 2, 11, 5, tzinfo=UTC)
LAST = datetime(2026, 3, 14, 2, 41, 37, tzinfo=UTC)
_PORTAL = (
    "https://portal.azure.com/#@/resource/subscriptions/00000000-0000-0000-0000-000000000000"
    "/resourceGroups/rg-shop-prod/providers/Microsoft.App/containerApps/api/revisionManagement"
)
_LINKS = (
    Link("Open the app in the Azure portal", _PORTAL),
    Link("Troubleshooting image pulls", "https://aka.ms/cappsimagepullerrors"),
)


def catalog_steps(cause: Cause, app: str, image: str, **facts: str) -> tuple[Step, ...]:
    """The catalog's steps for ``image`` as an alert shows them (the revision's names filled)."""
    registry, _, rest = image.partition("/")
    repository, _, tag = rest.partition(":")
    values = {
        "image": image,
        "registry": registry,
        "registry_name": registry.split(".")[0],
        "repository": repository,
        "tag": tag,
        **facts,
    }
    steps = steps_for(cause, registry, tuple(sorted(values.items())))
    names = {"<app>": app, "<resource-group>": "rg-shop-prod", "<revision>": f"{app}--0000005"}
    return tuple(Step(s.text, s.command) for s in fill_values(steps, names))


REGISTRY_UNAUTHORIZED = Alert(
    kind=AlertKind.FIRING,
    environment="cae-shop-prod",
    app="api",
    revision="api--0000005",
    cause="registry-unauthorized",
    cause_title="Registry rejected the credentials (401)",
    summary=(
        "myacr.azurecr.io answered 401 Unauthorized: the credentials are wrong, rotated or "
        "missing, or the managed identity has no AcrPull role."
    ),
    facts=(
        ("Image", "myacr.azurecr.io/api:1.4.2"),
        ("Registry", "myacr.azurecr.io"),
        ("HTTP status", "401"),
    ),
    steps=catalog_steps(Cause.REGISTRY_UNAUTHORIZED, "api", "myacr.azurecr.io/api:1.4.2"),
    count=12,
    first_seen=FIRST,
    last_seen=LAST,
    sample="Container pull image failed with unauthorized error.",
    links=_LINKS,
    reason="first-notification",
    image="myacr.azurecr.io/api:1.4.2",
    rule="unauthorized",
    confidence="high",
)

IMAGE_NOT_FOUND = Alert(
    kind=AlertKind.FIRING,
    environment="cae-shop-prod",
    app="worker",
    revision="worker--g72o3de",
    cause="image-not-found",
    cause_title="Image or tag not found",
    summary="The registry has no myacr.azurecr.io/worker:2.0.0-rc1: the repository, tag or "
    "digest does not exist.",
    facts=(("Image", "myacr.azurecr.io/worker:2.0.0-rc1"), ("Registry", "myacr.azurecr.io")),
    steps=catalog_steps(Cause.IMAGE_NOT_FOUND, "worker", "myacr.azurecr.io/worker:2.0.0-rc1"),
    count=3,
    first_seen=FIRST,
    last_seen=LAST,
    sample=(
        'Failed to pull image "myacr.azurecr.io/worker:2.0.0-rc1": rpc error: code = NotFound '
        "desc = failed to resolve reference: myacr.azurecr.io/worker:2.0.0-rc1: not found"
    ),
    links=_LINKS,
    image="myacr.azurecr.io/worker:2.0.0-rc1",
    rule="not-found",
    confidence="high",
)

REGISTRY_FIREWALL = Alert(
    kind=AlertKind.FIRING,
    environment="cae-shop-prod",
    app="api",
    revision="api--0000006",
    cause="registry-firewall",
    cause_title="Registry firewall denied the environment's IP",
    summary="myacr.azurecr.io refused client IP 20.61.4.17: the registry firewall or "
    "private endpoint does not allow the environment's outbound address.",
    facts=(
        ("Image", "myacr.azurecr.io/api:1.4.3"),
        ("Client IP", "20.61.4.17"),
        ("Registry error", "DENIED"),
    ),
    steps=catalog_steps(
        Cause.REGISTRY_FIREWALL, "api", "myacr.azurecr.io/api:1.4.3", client_ip="20.61.4.17"
    ),
    count=40,
    first_seen=FIRST,
    last_seen=LAST,
    sample=(
        "Container 'api' was terminated with exit code '' and reason 'ImagePullFailure'. "
        'Error: {"errors":[{"code":"DENIED","message":"client with IP \'20.61.4.17\' is not '
        'allowed access, refer https://aka.ms/acr/firewall to grant access"}]}'
    ),
    links=_LINKS,
    image="myacr.azurecr.io/api:1.4.3",
    rule="registry-code:DENIED",
    confidence="high",
)

# A bare "denied" (GHCR's answer for a missing or private package): a family match, so the
# messages say "Likely".
LIKELY = Alert(
    kind=AlertKind.FIRING,
    environment="cae-shop-prod",
    app="worker",
    revision="worker--0000005",
    cause="repository-access-denied",
    cause_title="Repository missing or access denied",
    summary="The registry refused ghcr.io/acme/worker:v9: either the repository does not exist "
    "(check the spelling) or the app's identity may not read it. The registry answers both the "
    "same.",
    facts=(("Image", "ghcr.io/acme/worker:v9"), ("Registry", "ghcr.io")),
    steps=catalog_steps(Cause.REPOSITORY_ACCESS_DENIED, "worker", "ghcr.io/acme/worker:v9"),
    count=6,
    first_seen=FIRST,
    last_seen=LAST,
    sample=(
        'Failed to pull image "ghcr.io/acme/worker:v9": Error response from daemon: Head '
        '"https://ghcr.io/v2/acme/worker/manifests/v9": denied'
    ),
    links=_LINKS,
    reason="first-notification",
    image="ghcr.io/acme/worker:v9",
    rule="denied",
    confidence="medium",
)

REMINDER = replace(REGISTRY_UNAUTHORIZED, kind=AlertKind.REMINDER, count=57, reason="repeat-due")

CAUSE_CHANGED = replace(
    REGISTRY_FIREWALL,
    kind=AlertKind.CAUSE_CHANGED,
    revision="api--0000005",
    previous_cause="registry-unauthorized",
    previous_cause_title="Registry rejected the credentials (401)",
    reason="cause-changed",
)

RESOLVED = replace(
    REGISTRY_UNAUTHORIZED,
    kind=AlertKind.RESOLVED,
    resolution="The revision pulled myacr.azurecr.io/api:1.4.2 at 2026-03-14 03:02 UTC.",
    reason="resolved",
)

DIGEST = (
    REGISTRY_UNAUTHORIZED,
    IMAGE_NOT_FOUND,
    REGISTRY_FIREWALL,
    replace(IMAGE_NOT_FOUND, app="billing", revision="billing--0000012", count=7),
    replace(REGISTRY_FIREWALL, app="web", revision="web--x8k2p1q", count=21),
    replace(REGISTRY_FIREWALL, app="search", revision="search--0000003", count=2),
    replace(RESOLVED, app="cart", revision="cart--0000009", count=4),
)

# A 401 whose configuration check found the cause (pullwatch.verify), and one it could not check.
_CHECKED = datetime(2026, 3, 14, 2, 45, tzinfo=UTC)
VERIFIED = replace(
    REGISTRY_UNAUTHORIZED,
    findings=(
        Finding(
            "identity-lacks-pull-role",
            "identity id-api (principal 3f2b8c1e-6a4d-4e7b-9c1a-0d5e6f7a8b9c) has no AcrPull on "
            "myacr (checked the registry, its resource group and subscription; group "
            "memberships are not visible to Resource Graph)",
        ),
        Finding(
            "registry-ip-rules-exclude-environment",
            "myacr's firewall denies by default and its IP rules do not allow 20.103.44.17, "
            "the outbound IP of api",
        ),
    ),
    fix=Step(
        "Grant identity id-api AcrPull on myacr",
        'az role assignment create --role "AcrPull" --assignee-object-id '
        "3f2b8c1e-6a4d-4e7b-9c1a-0d5e6f7a8b9c --assignee-principal-type ServicePrincipal "
        "--scope /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-shop-prod"
        "/providers/Microsoft.ContainerRegistry/registries/myacr",
    ),
    checked_at=_CHECKED,
)
CHECK_FAILED = replace(
    REGISTRY_UNAUTHORIZED,
    checked_at=_CHECKED,
    check_error="could not check the configuration: Resource Graph did not answer within the "
    "time budget",
)

# Every single-alert message kind, by golden-file name.
SINGLE = {
    "firing-registry-unauthorized": REGISTRY_UNAUTHORIZED,
    "firing-image-not-found": IMAGE_NOT_FOUND,
    "firing-registry-firewall": REGISTRY_FIREWALL,
    "reminder": REMINDER,
    "cause-changed": CAUSE_CHANGED,
    "resolved": RESOLVED,
    "firing-verified": VERIFIED,
    "firing-check-failed": CHECK_FAILED,
    "firing-likely": LIKELY,
}


def _storm_alert(base: Alert, prefix: str, number: int, **values: str) -> Alert:
    """``base`` for app ``<prefix>-<number>`` in one of two environments, its steps refilled."""
    app = f"{prefix}-{number:03d}"
    image = f"myacr.azurecr.io/{app}:2.0.{number % 3}"
    return replace(
        base,
        app=app,
        revision=f"{app}--0000{number % 7 + 1:03d}",
        environment=("cae-shop-prod", "cae-shop-stage")[number % 2],
        steps=catalog_steps(Cause(base.cause), app, image, **values),
        image=image,
        facts=(("Image", image), ("Registry", "myacr.azurecr.io")),
        count=number % 40 + 1,
    )


# A 279-revision storm: four causes, shared and differing fix commands, two environments.
STORM = (
    *(_storm_alert(IMAGE_NOT_FOUND, "worker", n) for n in range(140)),
    *(_storm_alert(REGISTRY_UNAUTHORIZED, "api", n) for n in range(90)),
    *(_storm_alert(REGISTRY_FIREWALL, "edge", n, client_ip="20.61.4.17") for n in range(40)),
    *(_storm_alert(RESOLVED, "cart", n) for n in range(9)),
)
STORM_LINK = Link(
    "Every failing revision in Log Analytics",
    "https://portal.azure.com/#blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/resourceId/"
    "%2Fsubscriptions%2F00000000-0000-0000-0000-000000000000%2FresourceGroups%2Frg-monitor"
    "%2Fproviders%2FMicrosoft.OperationalInsights%2Fworkspaces%2Flog-shop/source/"
    "LogsBlade.AnalyticsShareLinkToQuery/q/H4sIAAAAAAAAA0tMSgUAVkiD3QMAAAA%3D/timespan/P7D",
)
SEE_ALL = "python -m pullwatch ledger show --firing"
