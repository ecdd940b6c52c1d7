"""Every az command of the self-alerts' and doctor's fixes passes azure-cli's own command table
(tests/azcli/cli_table.py in .venv-azcli), as the cause catalog's steps do."""

from __future__ import annotations

from typing import Any

import pytest

from pullwatch.health.fixes import RULES, Context
from tests.classifiers.test_steps import az_requests
from tests.classifiers.test_steps import check_with_azure_cli as check_steps_with_azure_cli

FULL = Context(
    "6b1f2c3d-0000-4000-8000-000000000001",
    service="teams",
    client_id="44444444-4444-4444-4444-444444444444",
    workspace_resource_id="/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
    "rg-shop/providers/Microsoft.OperationalInsights/workspaces/log-shop",
    resource_group="rg-shop",
    environments=("cae-shop",),
    ledger="blob pullwatch/ledger.json",
)
BARE = Context("6b1f2c3d-0000-4000-8000-000000000001")
TYPO = 'az role assignment create --assignee x --role-name "Log Analytics Reader" --scope /s'


def check_with_azure_cli(requests: list[dict[str, Any]]) -> list[list[str]]:
    # the role, monitor and containerapp modules hold over 100 commands
    return check_steps_with_azure_cli(requests, minimum_commands=100)


@pytest.fixture(scope="module")
def checked() -> dict[str, list[str]]:
    requests: list[dict[str, Any]] = []
    for number, rule in enumerate(RULES):
        for name, context in (("full", FULL), ("bare", BARE)):
            for step in rule.steps(context):
                if step.command and step.command.startswith("az "):
                    where = f"{rule.kind.value}/{rule.errors}/{number}/{name}"
                    requests.extend(az_requests(where, step.command, console=False))
    requests.extend(az_requests("typo", TYPO, console=False))
    problems: dict[str, list[str]] = {}
    for request, found in zip(requests, check_with_azure_cli(requests), strict=True):
        problems.setdefault(request["where"], []).extend(found)
    return problems


def test_every_fix_command_passes_the_azure_cli_check(checked: dict[str, list[str]]) -> None:
    assert {where: found for where, found in checked.items() if found and where != "typo"} == {}
    kinds = {where.split("/")[0] for where in checked}
    assert {"workspace", "logs"} <= kinds  # the az lines are there to be checked


def test_the_check_catches_a_typo(checked: dict[str, list[str]]) -> None:
    assert checked["typo"]
