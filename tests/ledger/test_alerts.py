"""Alert evidence: facts, steps with the revision's names filled in, portal and doc links."""

from __future__ import annotations

from classifiers import TROUBLESHOOTING_URL
from pullwatch.decide.alerts import AlertContext, evidence_from_observation, trim_sample
from pullwatch.settings import Settings

from .helpers import RESOURCE_ID, fail

PORTAL = "https://portal.azure.com/#resource" + RESOURCE_ID + "/overview"


def test_facts_in_order_and_empty_ones_left_out() -> None:
    evidence = evidence_from_observation(fail("unauthorized", 0, reasons=("ImagePullBackOff",)))
    assert evidence.facts == (
        ("Image", "myacr.azurecr.io/orders:1.4"),
        ("Registry", "myacr.azurecr.io"),
        ("HTTP status", "401"),
        ("Reason", "ImagePullBackOff"),
    )
    assert evidence.cause == "registry-unauthorized"
    assert not evidence.transient


def test_steps_filled_from_the_resource_id() -> None:
    evidence = evidence_from_observation(fail("unauthorized", 0, resource_id=RESOURCE_ID))
    assert evidence.steps[0].command == (
        "az containerapp registry list --name orders --resource-group rg-orders "
        "--query \"[?server=='myacr.azurecr.io']\" -o table"
    )
    assert all("<app>" not in (s.command or "") for s in evidence.steps)
    assert evidence.links[0].url == PORTAL
    assert evidence.links[-1].url == TROUBLESHOOTING_URL


def test_resource_group_and_link_from_settings_when_the_logs_lack_it() -> None:
    context = AlertContext.from_settings(
        Settings(subscription_id="00000000-0000-0000-0000-000000000001", resource_group="rg-orders")
    )
    evidence = evidence_from_observation(fail("unauthorized", 0), context)
    assert "--resource-group rg-orders" in (evidence.steps[0].command or "")
    assert evidence.links[0].url == PORTAL


def test_environment_resource_id_still_gives_the_app_link() -> None:
    environment_id = (
        "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-orders"
        "/providers/Microsoft.App/managedEnvironments/prod-env"
    )
    evidence = evidence_from_observation(fail("unauthorized", 0, resource_id=environment_id))
    assert evidence.links[0].url == PORTAL


def test_unknown_location_keeps_the_placeholder_and_only_links_the_docs() -> None:
    evidence = evidence_from_observation(fail("unauthorized", 0))
    assert evidence.steps[0].text == (
        "Before pasting, put in place of <resource-group>: the Container App's resource group"
    )
    assert "--name orders --resource-group <resource-group>" in (evidence.steps[1].command or "")
    assert [link.url for link in evidence.links] == [TROUBLESHOOTING_URL]


def test_sample_is_the_decisive_line_trimmed() -> None:
    evidence = evidence_from_observation(fail("timeout", 0))
    assert evidence.sample.startswith('Failed to pull image "myacr.azurecr.io/orders:1.4"')
    long = trim_sample("x" * 5000)
    assert len(long) == 600
    assert long.endswith("…")
