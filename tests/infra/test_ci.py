"""The hosted CI workflow: make test, the Bicep compiler and linter, and a what-if where credentials
exist. Its az command lines go through the real Azure CLI parser (tests/infra/azcli.py); the
workflow itself runs only on GitHub.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.infra import azcli, bicep_syntax
from tests.infra.conftest import INFRA, REPO

WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    return document


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


def _commands(job: dict[str, Any]) -> list[list[str]]:
    """Every az command line of a job's run steps, continuation lines joined, split like a shell."""
    commands = []
    for step in _steps(job):
        script = step.get("run", "").replace("\\\n", " ")
        for line in script.splitlines():
            words = shlex.split(line)
            if words[:1] == ["az"]:
                commands.append(words[1:])
    return commands


def test_the_test_job_runs_make_test_and_the_bicep_compiler(workflow: dict[str, Any]) -> None:
    assert set(workflow[True]) == {"push", "pull_request"}  # YAML 1.1 reads `on` as true
    job = workflow["jobs"]["test"]
    assert job["runs-on"] == "ubuntu-latest"
    uses = {step.get("uses", "").split("@")[0]: step.get("with", {}) for step in _steps(job)}
    assert uses["actions/setup-python"] == {"python-version": "3.11"}
    assert uses["actions/setup-node"] == {"node-version": "20"}
    runs = [step.get("run", "") for step in _steps(job)]
    assert any(run.startswith("make test") for run in runs)
    commands = _commands(job)
    assert ["bicep", "build", "--file", "infra/main.bicep", "--stdout"] in [c[:5] for c in commands]
    assert ["bicep", "lint", "--file", "infra/main.bicep"] in commands


def test_what_if_runs_only_with_credentials_and_an_oidc_token(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["what-if"]
    assert job["needs"] == "test"
    assert "vars.AZURE_CLIENT_ID != ''" in job["if"]
    assert "head.repo.full_name == github.repository" in job["if"]
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    login = next(step for step in _steps(job) if step.get("uses", "").startswith("azure/login@"))
    assert set(login["with"]) == {"client-id", "tenant-id", "subscription-id"}
    # repository values reach the shell through env, never pasted into the script
    for step in _steps(job):
        assert "${{" not in step.get("run", "")


def test_what_if_gives_every_required_parameter(workflow: dict[str, Any]) -> None:
    (what_if,) = [
        c
        for c in _commands(workflow["jobs"]["what-if"])
        if c[:3] == ["deployment", "group", "what-if"]
    ]
    assert what_if[what_if.index("--template-file") + 1] == "infra/main.bicep"
    start = what_if.index("--parameters") + 1
    given = {word.split("=", 1)[0] for word in what_if[start:] if re.match(r"\w+=", word)}
    params = bicep_syntax.declarations(bicep_syntax.parse_file(INFRA / "main.bicep")).params
    required = {name for name, has_default in params.items() if not has_default}
    assert required == given


def test_every_az_command_of_the_workflow_parses(
    workflow: dict[str, Any], tmp_path: Path, az_cache: Path
) -> None:
    commands = [c for job in workflow["jobs"].values() for c in _commands(job)]
    assert len(commands) >= 3
    template = azcli.arm_template_like_main(tmp_path / "main.json")
    for argv in commands:
        if argv[0] == "bicep":
            continue  # downloads the compiler: CI only
        values = {
            "$RESOURCE_GROUP": "rg-ci",
            "$WORKSPACE_ID": "/x",
            "infra/main.bicep": str(template),
        }
        argv = [values.get(word, word) for word in argv]
        call = azcli.check(argv, az_cache)
        assert call.parses, (argv, call.stderr[-400:])
