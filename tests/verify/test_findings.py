"""Each finding fires on a realistic configuration that has the fault, and stays silent on the
same configuration without it (scenarios: ``tests/verify/scenarios.py``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from pullwatch.verify.findings import FindingId, Target, Verification, evaluate
from pullwatch.verify.snapshot import snapshot_from_rows
from tests.verify import scenarios as s
from tests.verify.scenarios import CHECKED_AT, LAST_FAILURE, Objects

F = FindingId
SHIPPING = Target(
    "cae-prod-weu",
    "shipping",
    "shipping--0000031",
    "registry-unauthorized",
    LAST_FAILURE,
    image="acrpullwatchprod.azurecr.io/shipping:5.2.0",
    registry="acrpullwatchprod.azurecr.io",
)
ORDERS = replace(
    SHIPPING,
    app="orders-api",
    revision="orders-api--0000007",
    image="acrpullwatchprod.azurecr.io/orders-api:1.4.3",
)
INVENTORY = Target(
    "cae-prod-weu",
    "inventory",
    "inventory--g72o3de",
    "registry-firewall",
    LAST_FAILURE,
    image="acrcorpnet.azurecr.io/inventory:3.1.0",
    registry="acrcorpnet.azurecr.io",
    client_ip="20.103.44.17",
)
CATALOG = Target(
    "cae-stage-weu",
    "catalog-web",
    "catalog-web--0000003",
    "dns-failure",
    LAST_FAILURE,
    image="acrstage.azurecr.io/catalog-web:2.0.0",
    registry="acrstage.azurecr.io",
)
PAYMENTS = Target(
    "cae-prod-weu", "payments-api", "payments-api--0000012", "registry-unauthorized", LAST_FAILURE
)


def check(objects: Objects, target: Target) -> Verification:
    return evaluate(target, snapshot_from_rows(objects), checked_at=CHECKED_AT)


def ids(verification: Verification) -> list[str]:
    assert verification.error is None, verification.error
    return [f.id.value for f in verification.findings]


def fix_shipping_role(objects: Objects) -> Objects:
    app = s.named(objects, "shipping")
    registry = s.named(objects, "acrpullwatchprod")
    return [*objects, s.assignment(s.principal_of(app), registry["id"])]


# --- identity-lacks-pull-role and the scopes that count ---------------------------------------


def test_identity_without_acrpull_gets_the_exact_role_assignment_command() -> None:
    objects = s.sample()
    verification = check(objects, SHIPPING)
    assert ids(verification) == ["identity-lacks-pull-role"]
    principal = s.principal_of(s.named(objects, "shipping"))
    registry_id = s.named(objects, "acrpullwatchprod")["id"]
    fix = verification.fix
    assert fix is not None and fix.command is not None
    assert f"--assignee-object-id {principal}" in fix.command
    assert f"--scope {registry_id}" in fix.command
    assert '--role "AcrPull"' in fix.command and "<" not in fix.command
    assert "id-shipping" in verification.findings[0].text


@pytest.mark.parametrize(
    "scope",
    [
        pytest.param(lambda o: s.named(o, "acrpullwatchprod")["id"], id="registry"),
        pytest.param(lambda o: s.rg_id("rg-shop-prod"), id="resource-group"),
        pytest.param(lambda o: f"/subscriptions/{s.SUBSCRIPTION}", id="subscription"),
    ],
)
def test_a_pull_role_on_the_registry_its_group_or_subscription_counts(scope: Any) -> None:
    objects = s.sample()
    app = s.named(objects, "shipping")
    objects.append(s.assignment(s.principal_of(app), scope(objects)))
    assert ids(check(objects, SHIPPING)) == ["checks-passed"]


def test_a_role_on_another_resource_group_does_not_count() -> None:
    objects = s.sample()
    app = s.named(objects, "shipping")
    objects.append(s.assignment(s.principal_of(app), s.rg_id("rg-shop-stage")))
    assert ids(check(objects, SHIPPING)) == ["identity-lacks-pull-role"]


def test_acrpull_is_not_honoured_by_an_abac_registry_and_the_fix_names_the_repository_role() -> (
    None
):
    objects = fix_shipping_role(s.sample())
    s.named(objects, "acrpullwatchprod")["properties"]["roleAssignmentMode"] = (
        "AbacRepositoryPermissions"
    )
    verification = check(objects, SHIPPING)
    assert ids(verification) == ["identity-lacks-pull-role"]
    assert "not honoured" in verification.findings[0].text
    assert verification.fix and "Container Registry Repository Reader" in (
        verification.fix.command or ""
    )
    app = s.named(objects, "shipping")
    registry = s.named(objects, "acrpullwatchprod")
    objects.append(s.assignment(s.principal_of(app), registry["id"], s.REPOSITORY_READER))
    assert ids(check(objects, SHIPPING)) == ["checks-passed"]


def test_an_abac_condition_for_other_repositories_does_not_count() -> None:
    objects = s.sample()
    registry = s.named(objects, "acrpullwatchprod")
    registry["properties"]["roleAssignmentMode"] = "AbacRepositoryPermissions"
    principal = s.principal_of(s.named(objects, "shipping"))
    condition = (
        "((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'})) "
        "OR (@Resource[Microsoft.ContainerRegistry/registries/repositories:name] "
        "StringStartsWithIgnoreCase '{}'))"
    )
    other = s.assignment(
        principal,
        registry["id"],
        s.REPOSITORY_READER,
        condition=condition.replace("{}", "billing/"),
    )
    assert ids(check([*objects, other], SHIPPING)) == ["identity-lacks-pull-role"]
    mine = s.assignment(
        principal, registry["id"], s.REPOSITORY_READER, condition=condition.replace("{}", "ship")
    )
    assert ids(check([*objects, mine], SHIPPING)) == ["checks-passed"]


# --- pull-role-recent -----------------------------------------------------------------------


def test_a_role_assigned_three_minutes_before_the_failure_is_still_propagating() -> None:
    objects = s.sample()
    app = s.named(objects, "shipping")
    created = (LAST_FAILURE - timedelta(minutes=3)).isoformat()
    objects.append(
        s.assignment(
            s.principal_of(app), s.named(objects, "acrpullwatchprod")["id"], created=created
        )
    )
    verification = check(objects, SHIPPING)
    assert ids(verification) == ["pull-role-recent"]
    assert "3 minutes before the last failed pull" in verification.findings[0].text
    assert verification.fix and "revision restart" in (verification.fix.command or "")


def test_a_role_assigned_eleven_minutes_before_the_failure_has_propagated() -> None:
    objects = s.sample()
    app = s.named(objects, "shipping")
    created = (LAST_FAILURE - timedelta(minutes=11)).isoformat()
    objects.append(
        s.assignment(
            s.principal_of(app), s.named(objects, "acrpullwatchprod")["id"], created=created
        )
    )
    assert ids(check(objects, SHIPPING)) == ["checks-passed"]


def test_a_role_assigned_after_the_last_failure_says_the_next_pull_should_work() -> None:
    objects = s.sample()
    app = s.named(objects, "shipping")
    created = (LAST_FAILURE + timedelta(minutes=2)).isoformat()
    objects.append(
        s.assignment(
            s.principal_of(app), s.named(objects, "acrpullwatchprod")["id"], created=created
        )
    )
    verification = check(objects, SHIPPING)
    assert ids(verification) == ["pull-role-recent"]
    assert "the next pull should succeed" in verification.findings[0].text


# --- identity-not-on-app ----------------------------------------------------------------------


def test_a_registry_entry_naming_an_identity_the_app_lacks() -> None:
    objects = fix_shipping_role(s.sample())
    entry = s.named(objects, "shipping")["properties"]["configuration"]["registries"][0]
    wrong = entry["identity"].replace("id-shipping", "id-shiping")
    entry["identity"] = wrong
    verification = check(objects, SHIPPING)
    assert ids(verification) == ["identity-not-on-app"]
    assert verification.fix and f"--user-assigned {wrong}" in (verification.fix.command or "")
    assert "id-shiping" in verification.findings[0].text
    assert ids(check(fix_shipping_role(s.sample()), SHIPPING)) == ["checks-passed"]


def test_system_identity_named_but_not_turned_on() -> None:
    objects = s.sample()
    s.named(objects, "orders-api")["identity"] = None
    verification = check(objects, ORDERS)
    assert ids(verification) == ["identity-not-on-app"]
    assert verification.fix and "--system-assigned" in (verification.fix.command or "")


# --- registry-not-configured and registry-not-found -------------------------------------------


def test_an_acr_image_without_a_registry_entry() -> None:
    objects = s.sample()
    s.named(objects, "orders-api")["properties"]["configuration"]["registries"] = []
    verification = check(objects, ORDERS)
    assert ids(verification) == ["registry-not-configured"]
    # orders-api's system identity already has AcrPull: the fix uses it
    assert verification.fix and "--server acrpullwatchprod.azurecr.io --identity system" in (
        verification.fix.command or ""
    )
    s.named(objects, "acrpullwatchprod")["properties"]["anonymousPullEnabled"] = True
    assert ids(check(objects, ORDERS)) == ["checks-passed"]


def test_a_private_docker_hub_repository_without_credentials() -> None:
    target = Target(
        "cae-stage-weu",
        "notifications",
        "notifications--0000004",
        "repository-access-denied",
        LAST_FAILURE,
        image="docker.io/contoso/notifications:1.0.8",
        registry="docker.io",
    )
    objects = s.sample()
    assert ids(check(objects, target)) == ["registry-not-configured"]
    s.named(objects, "notifications")["properties"]["configuration"]["registries"] = [
        {
            "server": "docker.io",
            "username": "contoso",
            "passwordSecretRef": "dockerhub-token",
            "identity": "",
        }
    ]
    assert ids(check(objects, target)) == ["checks-passed"]


def test_an_acr_login_server_that_no_visible_registry_has() -> None:
    target = replace(
        ORDERS,
        registry="acrpullwatchprd.azurecr.io",
        image="acrpullwatchprd.azurecr.io/orders-api:1.4.3",
    )
    verification = check(s.sample(), target)
    assert ids(verification) == ["registry-not-found"]
    assert "acrpullwatchprd.azurecr.io" in verification.findings[0].text
    assert ids(check(s.sample(), ORDERS)) == ["checks-passed"]


# --- admin-user-disabled ----------------------------------------------------------------------


def test_admin_credentials_on_a_registry_whose_admin_user_is_off() -> None:
    objects = s.sample()
    verification = check(objects, PAYMENTS)  # the log line names no image: the app's images
    assert ids(verification) == ["admin-user-disabled"]
    assert verification.fix and "--identity system" in (verification.fix.command or "")
    s.named(objects, "acrpullwatchprod")["properties"]["adminUserEnabled"] = True
    assert ids(check(objects, PAYMENTS)) == ["checks-passed"]


def test_a_token_username_is_not_the_admin_user() -> None:
    objects = s.sample()
    entry = s.named(objects, "payments-api")["properties"]["configuration"]["registries"][0]
    entry["username"] = "payments-pull-token"
    assert ids(check(objects, PAYMENTS)) == ["checks-passed"]


# --- network: firewall, public access, private DNS --------------------------------------------


def test_firewall_ip_rules_that_exclude_the_client_ip() -> None:
    objects = s.sample()
    verification = check(objects, INVENTORY)
    assert ids(verification) == ["registry-ip-rules-exclude-environment"]
    assert verification.fix and verification.fix.command == (
        "az acr network-rule add --name acrcorpnet --ip-address 20.103.44.17"
    )
    rules = s.named(objects, "acrcorpnet")["properties"]["networkRuleSet"]["ipRules"]
    rules.append({"action": "Allow", "value": "20.103.44.0/24"})
    assert ids(check(objects, INVENTORY)) == ["checks-passed"]


def test_firewall_rules_are_checked_against_the_outbound_ips_when_the_line_has_none() -> None:
    objects = s.sample()
    verification = check(objects, replace(INVENTORY, client_ip=None))
    assert ids(verification) == ["registry-ip-rules-exclude-environment"]
    assert "20.103.44.17, 20.103.44.18" in verification.findings[0].text


def test_public_access_disabled_without_a_private_path() -> None:
    objects = s.sample()
    s.named(objects, "acrcorpnet")["properties"]["publicNetworkAccess"] = "Disabled"
    verification = check(objects, INVENTORY)
    assert ids(verification) == ["registry-public-access-disabled"]
    command = verification.fix.command if verification.fix else ""
    assert "--vnet-name vnet-prod-weu" in (command or "")
    assert s.named(objects, "acrcorpnet")["id"] in (command or "")


def test_public_access_disabled_with_a_private_endpoint_and_linked_dns_is_fine() -> None:
    objects = s.sample()
    link = s.named(objects, "vnet-prod-weu-link")
    stage_vnet = link["properties"]["virtualNetwork"]["id"].replace(
        "vnet-prod-weu", "vnet-stage-weu"
    )
    objects.append(
        {
            **link,
            "id": link["id"].replace("vnet-prod-weu-link", "vnet-stage-weu-link"),
            "name": "vnet-stage-weu-link",
            "properties": {**link["properties"], "virtualNetwork": {"id": stage_vnet}},
        }
    )
    assert ids(check(objects, CATALOG)) == ["checks-passed"]


def test_private_endpoint_in_the_vnet_but_no_dns_zone_link() -> None:
    verification = check(s.sample(), CATALOG)
    assert ids(verification) == ["private-dns-not-linked"]
    command = verification.fix.command if verification.fix else ""
    assert "--zone-name privatelink.azurecr.io" in (command or "")
    assert "--resource-group rg-shop-net" in (command or "")
    assert "virtualNetworks/vnet-stage-weu" in (command or "")


def test_private_endpoint_elsewhere_and_public_access_off_is_no_private_path() -> None:
    objects = s.sample()
    endpoint = s.named(objects, "pe-acrstage")
    endpoint["properties"]["subnet"]["id"] = endpoint["properties"]["subnet"]["id"].replace(
        "vnet-stage-weu", "vnet-hub"
    )
    assert ids(check(objects, CATALOG)) == ["registry-public-access-disabled"]


# --- checks-passed and what cannot be checked -------------------------------------------------


def test_checks_passed_says_so_and_points_at_a_restart() -> None:
    verification = check(s.sample(), ORDERS)
    assert ids(verification) == ["checks-passed"]
    assert verification.fix and "revision restart" in (verification.fix.command or "")
    assert "--revision orders-api--0000007" in (verification.fix.command or "")


def test_an_app_resource_graph_does_not_show_is_an_error_not_a_finding() -> None:
    verification = check(s.sample(), replace(ORDERS, app="ghost"))
    assert verification.findings == ()
    assert verification.error and "no app ghost" in verification.error


def test_findings_lead_with_what_explains_the_cause() -> None:
    objects = s.sample()
    s.named(objects, "acrpullwatchprod")["properties"]["networkRuleSet"] = {
        "defaultAction": "Deny",
        "ipRules": [],
    }
    unauthorized = ids(check(objects, SHIPPING))
    firewall = ids(check(objects, replace(SHIPPING, cause="registry-firewall")))
    assert unauthorized[0] == "identity-lacks-pull-role"
    assert firewall[0] == "registry-ip-rules-exclude-environment"
    assert sorted(unauthorized) == sorted(firewall)


def test_a_verification_survives_its_json_form() -> None:
    verification = check(s.sample(), SHIPPING)
    assert Verification.from_dict(verification.to_dict()) == verification
