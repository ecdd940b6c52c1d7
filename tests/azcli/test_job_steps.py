"""docs/job-steps.md: every job remediation command runs as written, with its reference page.

The proposal's steps are read from the document, filled with the facts the catalog's tests use
(``tests/classifiers/test_steps.py``: an ACR registry, ghcr.io) and a job's names, and every
``az`` invocation in them, nested ones included, is checked in one azure-cli process against its
command table (``tests/azcli/cli_table.py``): command, flags, required arguments, ``--query``
against what the REST API answers (``tests/azcli/samples.py``). Seeded typos prove the check
fails when it should.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from classifiers import Cause
from classifiers.remediation import VALUE_WORDS
from tests.azcli.shell import invocations
from tests.classifiers.test_steps import FACTS, az_requests, check_with_azure_cli

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "job-steps.md"
JOB = {
    "<job>": "nightly-reports",
    "<resource-group>": "rg-shop",
    "<execution>": "nightly-reports-q4w7n2c",
}
ONLY_FACTS = {"acr": ("acr-custom-dns",), "not-acr": ("ghcr",), "": ("acr-custom-dns", "ghcr")}
_SECTION = re.compile(r"^## `([a-z0-9-]+)`\n(.*?)(?=^## |\Z)", re.M | re.S)
_FIELD = re.compile(r"^- ([a-z]+): (.+)$", re.M)
_COMMAND = re.compile(r"```bash\n(.+?)\n```", re.S)
_FACT = re.compile(r"\{([a-z_]+)\}")
_PLACEHOLDER = re.compile(r"<[a-z][a-z0-9-]*>")
CLI_DOCS = "https://learn.microsoft.com/cli/azure/"


@dataclass(frozen=True)
class JobStep:
    id: str
    fields: dict[str, str]
    text: str
    command: str

    def filled(self, facts: str) -> str:
        values = FACTS[facts][1]
        command = _FACT.sub(lambda m: values[m.group(1)], self.command)
        for placeholder, value in JOB.items():
            command = command.replace(placeholder, value)
        return command


def job_steps() -> list[JobStep]:
    steps = []
    for match in _SECTION.finditer(DOC.read_text(encoding="utf-8")):
        body = match.group(2)
        fields = dict(_FIELD.findall(body))
        [command] = _COMMAND.findall(body)
        text = body[body.rindex(fields["source"]) + len(fields["source"]) : body.index("```")]
        steps.append(JobStep(match.group(1), fields, " ".join(text.split()), command))
    return steps


def fact_sets(step: JobStep) -> tuple[str, ...]:
    return ONLY_FACTS[step.fields.get("only", "")]


SEEDED_TYPOS = {
    "misspelt-group": "az containerapp job registy set --name j --resource-group rg --server s",
    "app-flag-on-a-job": (
        "az containerapp job execution show --name j --resource-group rg --execution e"
    ),
    "missing-execution": "az containerapp job execution show --name j --resource-group rg",
    "query-path": (
        "az containerapp job execution list --name j --resource-group rg "
        '--query "[].properties.startedTime"'
    ),
    "revision-restart-on-a-job": "az containerapp job revision restart --name j --resource-group rg",
}


@pytest.fixture(scope="module")
def checked() -> dict[str, list[str]]:
    requests: list[dict[str, Any]] = []
    for step in job_steps():
        for facts in fact_sets(step):
            requests.extend(az_requests(f"{step.id}/{facts}", step.filled(facts), False))
    for name, command in SEEDED_TYPOS.items():
        requests.extend(
            dict(request, where=f"typo/{name}") for request in az_requests(name, command, False)
        )
    problems: dict[str, list[str]] = {}
    # containerapp, identity and acr: about 300 commands in azure-cli 2.91.0
    for request, found in zip(requests, check_with_azure_cli(requests, 250), strict=True):
        problems.setdefault(request["where"], []).extend(found)
    return problems


def test_the_proposal_has_the_steps_a_job_alert_needs() -> None:
    ids = [step.id for step in job_steps()]
    assert len(ids) == len(set(ids)) == 12
    commands = " ".join(step.command for step in job_steps())
    for needed in ("job registry set", "job show", "job execution list", "job identity show"):
        assert f"az containerapp {needed} " in commands, needed


def test_every_job_command_passes_the_azure_cli_check(checked: dict[str, list[str]]) -> None:
    bad = {where: found for where, found in checked.items() if found and "typo/" not in where}
    assert bad == {}
    assert len([w for w in checked if not w.startswith("typo/")]) >= 12


@pytest.mark.parametrize("typo", sorted(SEEDED_TYPOS))
def test_the_check_catches_a_seeded_typo(checked: dict[str, list[str]], typo: str) -> None:
    assert checked[f"typo/{typo}"], f"{SEEDED_TYPOS[typo]} passed the check"


@pytest.mark.parametrize("step", job_steps(), ids=lambda step: step.id)
def test_each_step_names_the_reference_page_of_its_command(step: JobStep) -> None:
    outer = invocations(step.filled(fact_sets(step)[0]))[0]  # the outermost; nested ones follow
    command = []
    for word in outer.argv[1:]:  # the command's words end at its first flag
        if word.startswith("-"):
            break
        command.append(word)
    page = "/".join(command[:-1])
    assert step.fields["source"] == f"{CLI_DOCS}{page}#az-{'-'.join(command)}"


def test_every_placeholder_left_has_words_or_is_a_job_name() -> None:
    for step in job_steps():
        for placeholder in set(_PLACEHOLDER.findall(step.command)):
            assert placeholder in VALUE_WORDS or placeholder in JOB, (step.id, placeholder)


def test_causes_and_replaced_steps_are_the_catalogs() -> None:
    from classifiers import CATALOG

    catalog_ids = {step.id for info in CATALOG.values() for step in info.steps}
    causes = {cause.value for cause in Cause}
    for step in job_steps():
        replaces = step.fields["replaces"]
        if not replaces.startswith("(new"):
            assert replaces.strip("`") in catalog_ids, (step.id, replaces)
        named = step.fields["causes"]
        if named != "all":
            assert set(named.split(", ")) <= causes, (step.id, named)
