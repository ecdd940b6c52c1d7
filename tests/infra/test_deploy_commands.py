"""The deploy guide's permission commands: real az syntax, the roles and scopes they grant.

Each az call of the guide's "Who can deploy" block runs through the real Azure CLI (tests/infra/
azcli.py): it must parse and stop only for want of a login. Granting the roles on Azure cannot be
tried here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.infra import azcli
from tests.infra.conftest import REPO
from tests.infra.test_workspace_access import LOG_ANALYTICS_DATA_READER, LOG_ANALYTICS_READER_ID

GUIDE = REPO / "docs" / "deploy.md"
WORKSPACE = (
    "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-logs"
    "/providers/Microsoft.OperationalInsights/workspaces/log-apps"
)
DEPLOYER = "99999999-8888-7777-6666-555555555555"


def _section(title: str) -> str:
    text = GUIDE.read_text()
    return text.split(f"### {title}\n", 1)[1].split("\n### ", 1)[0]


def _bash_block(section: str) -> str:
    blocks = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1, "expected one bash block"
    return blocks[0]


@pytest.fixture(scope="module")
def permission_calls(
    tmp_path_factory: pytest.TempPathFactory, az_cache: Path
) -> list[azcli.AzCall]:
    script = _bash_block(_section("Who can deploy"))
    script = script.replace(
        "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.OperationalInsights/workspaces/<name>",
        WORKSPACE,
    )
    assert "<" not in script, "an unfilled placeholder is left in the block"
    run = azcli.record_shell(
        "set -eu\n" + script,
        tmp_path_factory.mktemp("az"),
        answers=[(["ad", "signed-in-user", "show"], [(DEPLOYER + "\n", 0)])],
        cache=az_cache,
    )
    assert run.returncode == 0, run.stderr
    return run.calls


def test_every_az_call_of_the_guide_parses(permission_calls: list[azcli.AzCall]) -> None:
    assert len(permission_calls) == 4
    for call in permission_calls:
        assert call.parses, (call.argv, call.stderr[-500:])


def _option(call: azcli.AzCall, name: str) -> str:
    return call.argv[call.argv.index(name) + 1]


def test_the_custom_role_allows_deployments_only(permission_calls: list[azcli.AzCall]) -> None:
    create = next(c for c in permission_calls if c.argv[:3] == ["role", "definition", "create"])
    role = json.loads(_option(create, "--role-definition"))
    assert role["Actions"] == [
        "Microsoft.Resources/deployments/*",
        "Microsoft.Resources/subscriptions/resourceGroups/read",
    ]
    assert role["AssignableScopes"] == ["/subscriptions/11111111-2222-3333-4444-555555555555"]
    assert "DataActions" not in role and "NotActions" not in role


def test_the_assignments_have_the_right_roles_and_scopes(
    permission_calls: list[azcli.AzCall],
) -> None:
    assignments = [c for c in permission_calls if c.argv[:3] == ["role", "assignment", "create"]]
    scopes = {_option(c, "--role"): _option(c, "--scope") for c in assignments}
    assert scopes == {
        "pullwatch workspace deployer": WORKSPACE.split("/providers/")[0],
        "Role Based Access Control Administrator": WORKSPACE,
    }
    for call in assignments:
        assert _option(call, "--assignee-object-id") == DEPLOYER
    rbac = next(c for c in assignments if "--condition" in c.argv)
    condition = _option(rbac, "--condition")
    assert _option(rbac, "--condition-version") == "2.0"
    guids = {LOG_ANALYTICS_DATA_READER["id"], LOG_ANALYTICS_READER_ID}
    for attribute in ("@Request", "@Resource"):
        found = re.search(
            re.escape(attribute) + r"\[Microsoft\.Authorization/roleAssignments:RoleDefinitionId\] "
            r"ForAnyOfAnyValues:GuidEquals \{([^}]*)\}",
            condition,
        )
        assert found, attribute
        assert {g.strip() for g in found[1].split(",")} == guids


def test_the_checker_catches_a_seeded_bad_option(tmp_path: Path) -> None:
    call = azcli.check(
        ["role", "assignment", "create", "--assignee-objectid", DEPLOYER, "--role", "Reader"],
        tmp_path,
    )
    assert not call.parses
    assert call.returncode == 2


def test_the_azure_cli_route_parses_and_runs_the_hook(tmp_path: Path, az_cache: Path) -> None:
    script = _bash_block(_section("With the Azure CLI and Core Tools"))
    url_file = tmp_path / "teams-webhook-url.txt"
    url_file.write_text("https://example.invalid/hook")
    script = (
        script.replace(
            "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.OperationalInsights/workspaces/<name>",
            WORKSPACE,
        )
        .replace("infra/main.bicep", str(azcli.arm_template_like_main(tmp_path / "main.json")))
        .replace("teams-webhook-url.txt", str(url_file))
    )
    assert "<" not in script
    (tmp_path / "bin").mkdir()
    func = tmp_path / "bin" / "func"
    func.write_text(f'#!/bin/sh\necho "$@" > {tmp_path / "func-args"}\n')
    func.chmod(0o755)
    run = azcli.record_shell(
        "set -eu\n" + script,
        tmp_path,
        answers=[
            (["deployment", "group", "show"], [("func-pullwatch-abc\n", 0)]),
            (["account", "show"], [("11111111-2222-3333-4444-555555555555\n", 0)]),
            (["rest", "--method", "get"], [("", 0)]),  # the hook: no references
        ],
        cache=az_cache,
    )
    assert run.returncode == 0, run.stderr
    assert [c.argv[:3] for c in run.calls] == [
        ["group", "create", "--name"],
        ["deployment", "group", "create"],
        ["deployment", "group", "show"],
        ["account", "show", "--query"],
        ["account", "show", "--subscription"],  # the hook: is az signed in?
        ["rest", "--method", "get"],
    ]
    for call in run.calls:
        assert call.parses, (call.argv, call.stderr[-400:])
    assert (tmp_path / "func-args").read_text().split() == [
        "azure",
        "functionapp",
        "publish",
        "func-pullwatch-abc",
        "--python",
    ]


def test_the_reference_status_command_parses(tmp_path: Path, az_cache: Path) -> None:
    script = _bash_block(_section("Check the Key Vault references"))
    script = script.replace("<app>", "func-pullwatch-abc").replace("<rg>", "rg-pullwatch")
    run = azcli.record_shell(
        "set -eu\n" + script,
        tmp_path,
        answers=[
            (
                ["functionapp", "show"],
                [("/subscriptions/x/resourceGroups/y/providers/Microsoft.Web/sites/z\n", 0)],
            )
        ],
        cache=az_cache,
    )
    assert run.returncode == 0, run.stderr
    assert len(run.calls) == 2
    for call in run.calls:
        assert call.parses, (call.argv, call.stderr[-400:])
    rest = run.calls[1]
    assert rest.argv[rest.argv.index("--url") + 1] == (
        "/subscriptions/x/resourceGroups/y/providers/Microsoft.Web/sites/z"
        "/config/configreferences/appsettings?api-version=2022-03-01"
    )
