"""The azd postprovision hook: wired in azure.yaml, valid sh, and what it does against a stand-in az.

Every az call the hook makes goes through the real Azure CLI's parser first (tests/infra/azcli.py),
so a misspelt command or option fails here; the answers (reference statuses, failures) are canned.
The ARM endpoints themselves cannot be reached from here.
"""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.infra import azcli
from tests.infra.conftest import REPO

HOOK = REPO / "infra" / "hooks" / "postprovision.sh"
SHELLCHECK = REPO / ".venv" / "bin" / "shellcheck"
ENV = {
    "AZURE_SUBSCRIPTION_ID": "11111111-2222-3333-4444-555555555555",
    "AZURE_RESOURCE_GROUP": "rg-pullwatch",
    "AZURE_FUNCTION_APP_NAME": "func-pullwatch-abc",
    "POSTPROVISION_INTERVAL_SECONDS": "0",
    "POSTPROVISION_ATTEMPTS": "3",
}
SITE = (
    "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-pullwatch"
    "/providers/Microsoft.Web/sites/func-pullwatch-abc"
)
GET = ["rest", "--method", "get"]
POST = ["rest", "--method", "post"]
RESTART = ["functionapp", "restart"]
SIGNED_IN = ["account", "show", "--subscription"]
# A command line of the hook that runs az (not a message that mentions it): its first three words.
AZ_COMMAND = re.compile(r"^\s*(?:if\s+)?az\s+(\S+)\s+(\S+)\s+(\S+)", re.MULTILINE)
TEAMS = "PULLWATCH_TEAMS_WEBHOOK_URLS"
SLACK = "PULLWATCH_SLACK_WEBHOOK_URLS"


def test_azure_yaml_runs_the_hook_after_provisioning() -> None:
    document = yaml.safe_load((REPO / "azure.yaml").read_text())
    hook = document["hooks"]["postprovision"]["posix"]
    assert hook == {
        "shell": "sh",
        "run": "./infra/hooks/postprovision.sh",
        "interactive": True,
        "continueOnError": False,
    }
    assert (REPO / hook["run"]).resolve() == HOOK
    assert HOOK.stat().st_mode & stat.S_IXUSR
    listed = subprocess.run(
        ["git", "ls-files", "-s", str(HOOK)], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert listed.stdout.startswith("100755"), "commit the hook as executable"


def test_the_outputs_the_hook_reads_exist() -> None:
    outputs = (REPO / "infra" / "main.bicep").read_text()
    for name in ("AZURE_RESOURCE_GROUP", "AZURE_FUNCTION_APP_NAME"):
        assert f"output {name} string" in outputs


@pytest.mark.parametrize("shell", ["sh", "bash", "dash"])
def test_the_hook_has_valid_syntax(shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.fail(f"{shell} is missing")
    subprocess.run([shell, "-n", str(HOOK)], check=True)


def test_shellcheck_finds_nothing() -> None:
    result = subprocess.run(
        [str(SHELLCHECK), "--shell=sh", "--severity=style", str(HOOK)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def _run(
    tmp_path: Path, cache: Path, answers: azcli.Answers, env: dict[str, str] = ENV
) -> azcli.ShellRun:
    run = azcli.record_shell(
        str(HOOK), tmp_path, answers=answers, env=env, interpreter="sh", cache=cache
    )
    for call in run.calls:
        assert call.parses, (call.argv, call.stderr[-400:])
    return run


def _count(run: azcli.ShellRun, prefix: list[str]) -> int:
    return sum(call.argv[: len(prefix)] == prefix for call in run.calls)


def test_no_references_means_nothing_to_wait_for(tmp_path: Path, az_cache: Path) -> None:
    run = _run(tmp_path, az_cache, [(GET, [("", 0)])])
    assert run.returncode == 0, run.stderr
    assert "no Key Vault references" in run.stdout
    assert _count(run, POST) == 0 and _count(run, RESTART) == 0


def test_waits_until_resolved_then_restarts(tmp_path: Path, az_cache: Path) -> None:
    unresolved = f"{TEAMS}\tAccessToKeyVaultDenied\n{SLACK}\tAccessToKeyVaultDenied\n"
    run = _run(
        tmp_path,
        az_cache,
        [
            (
                GET,
                [
                    (f"{TEAMS}\tAccessToKeyVaultDenied\n{SLACK}\tResolved\n", 0),  # all
                    (unresolved, 0),
                    (f"{TEAMS}\tAccessToKeyVaultDenied\n", 0),
                    ("", 0),
                ],
            )
        ],
    )
    assert run.returncode == 0, run.stderr
    # this run reaches every az command line of the hook, so each was checked by the real az
    in_script = {tuple(m.groups()) for m in AZ_COMMAND.finditer(HOOK.read_text())}
    assert in_script == {tuple(SIGNED_IN), tuple(GET), tuple(POST), (*RESTART, "--name")}
    assert {tuple(call.argv[:3]) for call in run.calls} == in_script
    assert _count(run, POST) == 3
    assert _count(run, RESTART) == 1
    assert run.calls[-1].argv[:2] == RESTART
    assert "every Key Vault reference of func-pullwatch-abc is resolved" in run.stdout
    refresh = next(call for call in run.calls if call.argv[:3] == POST)
    url = refresh.argv[refresh.argv.index("--url") + 1]
    assert url == f"{SITE}/config/configreferences/appsettings/refresh?api-version=2022-03-01"


def test_gives_up_with_the_unresolved_names_and_no_restart(tmp_path: Path, az_cache: Path) -> None:
    run = _run(tmp_path, az_cache, [(GET, [(f"{TEAMS}\tAccessToKeyVaultDenied\n", 0)])])
    assert run.returncode == 1
    assert _count(run, POST) == 3  # POSTPROVISION_ATTEMPTS
    assert _count(run, RESTART) == 0
    assert f"  {TEAMS}: AccessToKeyVaultDenied" in run.stderr
    assert "Key Vault Secrets User" in run.stderr
    assert "Environment variables" in run.stderr
    assert "Traceback" not in run.stderr


def test_an_unreadable_status_still_restarts(tmp_path: Path, az_cache: Path) -> None:
    run = _run(tmp_path, az_cache, [(GET, [("", 1)])])
    assert run.returncode == 0, run.stderr
    assert "WARNING: could not read the Key Vault reference status" in run.stdout
    assert _count(run, RESTART) == 1


def test_a_failed_restart_is_a_warning_with_the_command(tmp_path: Path, az_cache: Path) -> None:
    run = _run(
        tmp_path, az_cache, [(GET, [(f"{TEAMS}\tResolved\n", 0), ("", 0)]), (RESTART, [("", 1)])]
    )
    assert run.returncode == 0, run.stderr
    assert "az functionapp restart --name func-pullwatch-abc" in run.stdout


@pytest.mark.parametrize("missing", ["AZURE_SUBSCRIPTION_ID", "AZURE_FUNCTION_APP_NAME"])
def test_a_missing_value_is_one_line_naming_it(
    tmp_path: Path, az_cache: Path, missing: str
) -> None:
    env = {key: value for key, value in ENV.items() if key != missing}
    run = _run(tmp_path, az_cache, [], env=env)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        f"postprovision: {missing} is not set (run this hook through azd, or export {missing})"
    ]
    assert run.calls == []


def test_an_az_without_login_stops_before_any_wait(tmp_path: Path, az_cache: Path) -> None:
    run = _run(tmp_path, az_cache, [(SIGNED_IN, [("", 1)])])
    assert run.returncode == 1
    assert [call.argv[:3] for call in run.calls] == [SIGNED_IN]
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith(
        "postprovision: the Azure CLI cannot use subscription " + ENV["AZURE_SUBSCRIPTION_ID"]
    )
    assert "run az login, then: azd hooks run postprovision" in line


def test_no_azure_cli_is_one_line(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"  # the tools the hook needs, without az
    bin_dir.mkdir()
    for tool in ("printenv", "awk", "cut", "tr", "sleep"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    result = subprocess.run(
        ["/bin/sh", str(HOOK)],
        capture_output=True,
        text=True,
        env={**ENV, "PATH": str(bin_dir)},
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "postprovision: the Azure CLI (az) is not installed; install it, run az login, then: azd hooks run postprovision"
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [("POSTPROVISION_ATTEMPTS", "ten"), ("POSTPROVISION_INTERVAL_SECONDS", "1.5")],
)
def test_a_bad_number_is_one_line_naming_it(
    tmp_path: Path, az_cache: Path, name: str, value: str
) -> None:
    run = _run(tmp_path, az_cache, [], env={**ENV, name: value})
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        f"postprovision: {name} must be a whole number, not '{value}'"
    ]
    assert run.calls == []
