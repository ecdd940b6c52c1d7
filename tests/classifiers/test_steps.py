"""Every remediation step runs as printed: its commands are checked against the Azure CLI.

Each cause's steps are rendered with realistic facts (an ACR registry with a custom DNS server,
one behind Azure DNS with no client IP in the log, ghcr.io, Docker Hub, an unknown registry)
and the revision's names filled in, as an alert shows them; the seed guide's messages go
through ``python -m pullwatch classify --json`` as an on-call engineer would run it. Every
``az`` invocation in them, nested ``$(...)`` ones included, is checked in one process that
loads azure-cli's command table once (``tests/azcli/cli_table.py`` in ``.venv-azcli``, made by
``make azcli-env``): command, flags, choices, required arguments, ``--query`` against what
Azure answers. ``docker`` commands and lines typed in the debug console are checked against
the documented tables below. Seeded typos prove the check fails when it should.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from classifiers import CATALOG, Cause, classify
from classifiers.causes import job_steps
from classifiers.remediation import (
    VALUE_WORDS,
    VALUES_STEP_ID,
    RemediationStep,
    fill_values,
    missing_values,
    steps_for,
)
from tests.azcli.shell import Invocation, ShellSyntaxError, invocations
from tests.classifiers.seed_cases import SEED_CASES
from tests.cli.runner import pullwatch

ROOT = Path(__file__).resolve().parents[2]
AZCLI_PYTHON = ROOT / ".venv-azcli" / "bin" / "python"
CLI_TABLE = ROOT / "tests" / "azcli" / "cli_table.py"

# Realistic facts, as diagnose.py passes them (a sorted tuple of (name, value) pairs).
FACTS: dict[str, tuple[str | None, dict[str, str]]] = {
    "acr-custom-dns": (
        "myacr.azurecr.io",
        {
            "image": "myacr.azurecr.io/orders/api:1.4.2",
            "registry": "myacr.azurecr.io",
            "registry_name": "myacr",
            "repository": "orders/api",
            "tag": "1.4.2",
            "client_ip": "20.61.4.17",
            "dns_server": "10.0.0.4",
            "http_status": "401",
        },
    ),
    "acr-azure-dns": (
        "myacr.azurecr.io",
        {
            "image": "myacr.azurecr.io/orders/api:1.4.2",
            "registry": "myacr.azurecr.io",
            "registry_name": "myacr",
            "repository": "orders/api",
            "tag": "1.4.2",
            "dns_server": "168.63.129.16",
        },
    ),
    "ghcr": (
        "ghcr.io",
        {
            "image": "ghcr.io/acme/worker:v9",
            "registry": "ghcr.io",
            "registry_name": "ghcr",
            "repository": "acme/worker",
            "tag": "v9",
            "http_status": "429",
        },
    ),
    "docker-hub": (
        "docker.io",
        {
            "image": "nginx:1.27",
            "registry": "docker.io",
            "registry_name": "docker",
            "repository": "library/nginx",
            "tag": "1.27",
        },
    ),
    "no-facts": (None, {}),
}
REVISION = {
    "<app>": "api",
    "<resource-group>": "rg-shop",
    "<environment>": "cae-shop",
    "<revision>": "api--0000006",
}
# A Container Apps job's alert (the job forms of the steps, causes.job_steps).
JOB = {
    "<job>": "nightly-reports",
    "<resource-group>": "rg-shop",
    "<environment>": "cae-shop",
    "<execution>": "nightly-reports-q4w7n2c",
    "<environment-app>": "api",
}
# docker CLI commands the catalog uses, with their documented flags.
DOCKER_COMMANDS: dict[str, tuple[str, set[str]]] = {
    "manifest inspect": (
        "https://docs.docker.com/reference/cli/docker/manifest/inspect/",
        {"--insecure", "--verbose", "-v"},
    ),
    "buildx build": (
        "https://docs.docker.com/reference/cli/docker/buildx/build/",
        {"--platform", "--tag", "-t", "--push", "--file", "-f"},
    ),
}
# Tools the Container Apps debug console ships (container-debug-console, "Built-in tools").
DEBUG_CONSOLE_URL = "https://learn.microsoft.com/azure/container-apps/container-debug-console"
DEBUG_CONSOLE_TOOLS = {
    "nslookup": "bind-utils",
    "dig": "bind-utils",
    "nc": "nc",
    "wget": "wget",
    "openssl": "openssl",
    "traceroute": "traceroute",
    "tcpping": "tcpping",
}
_PROSE_COMMAND = re.compile(r"`(az [^`]+)`")


def rendered(cause: Cause, facts: str, *, job: bool = False) -> tuple[RemediationStep, ...]:
    registry, values = FACTS[facts]
    steps = steps_for(cause, registry, tuple(sorted(values.items())), job=job)
    return fill_values(steps, JOB if job else REVISION)


def all_rendered() -> Iterator[tuple[str, RemediationStep]]:
    for cause in Cause:
        for facts in FACTS:
            for step in rendered(cause, facts):
                yield f"{cause.value}/{facts}/{step.id}", step
            for step in rendered(cause, facts, job=True):
                yield f"job/{cause.value}/{facts}/{step.id}", step


SEED_DUMP = "\n".join(message for _, message, _, _ in SEED_CASES) + "\n"


def seed_steps() -> list[tuple[str, dict[str, Any]]]:
    result = pullwatch("classify", "--json", "--all", stdin=SEED_DUMP)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == len(SEED_CASES)
    return [
        (f"seed/{case[0]}/{number}", step)
        for case, line in zip(SEED_CASES, lines, strict=True)
        for number, step in enumerate(line["remediation"])
    ]


def az_requests(where: str, command: str, console: bool) -> list[dict[str, Any]]:
    """The az invocations of one step's command (docker and console lines are checked here)."""
    if console:
        assert_console_line(where, command)
        return []
    requests = []
    for invocation in invocations(command):
        program = invocation.argv[0]
        if program == "docker":
            assert_docker(where, invocation)
        elif program == "az":
            requests.append(_request(where, invocation, fragment=False))
        else:
            pytest.fail(f"{where}: runs {program!r}, which the check does not know")
    return requests


def _request(where: str, invocation: Invocation, fragment: bool) -> dict[str, Any]:
    return {
        "where": where,
        "argv": invocation.argv,
        "dynamic": [w.dynamic for w in invocation.words],
        "fragment": fragment,
    }


def assert_docker(where: str, invocation: Invocation) -> None:
    argv = invocation.argv
    name = " ".join(argv[1:3])
    assert name in DOCKER_COMMANDS, f"{where}: docker {name} is not in DOCKER_COMMANDS"
    _, flags = DOCKER_COMMANDS[name]
    for word in argv[3:]:
        if word.startswith("-"):
            assert word in flags, f"{where}: docker {name} has no documented flag {word}"


def assert_console_line(where: str, line: str) -> None:
    words = shlex.split(line)
    assert words[0] in DEBUG_CONSOLE_TOOLS, f"{where}: {words[0]} is not in the debug console"


def check_with_azure_cli(
    requests: list[dict[str, Any]], minimum_commands: int = 1000
) -> list[list[str]]:
    """Problems per request; ``minimum_commands``: how many commands the loaded modules of the
    checked groups must have (a guard against checking against a stub)."""
    if not AZCLI_PYTHON.exists():
        pytest.fail(f"azure-cli is not installed at {AZCLI_PYTHON}: run `make azcli-env`")
    result = subprocess.run(
        [str(AZCLI_PYTHON), str(CLI_TABLE)],
        input=json.dumps({"invocations": requests}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout)
    assert answer["commands"] > minimum_commands  # the checked groups' modules were loaded
    results: list[list[str]] = answer["results"]
    return results


# Typos the check must catch; each is an invocation that must get at least one problem.
SEEDED_TYPOS = {
    "misspelt-subcommand": "az containerapp registy list --name api --resource-group rg",
    "misspelt-group": "az network private-dsn link vnet list --resource-group rg --zone-name z",
    "renamed-flag": "az role assignment create --assignee-objectid x --role AcrPull --scope /s",
    "bad-choice": (
        "az role assignment create --assignee-object-id x --assignee-principal-type "
        "ServicePrinciple --role AcrPull --scope /s"
    ),
    "missing-required": "az acr show --query id -o tsv",
    "query-path": "az containerapp identity show --name api --resource-group rg --query principalID",
    "query-syntax": "az acr show --name myacr --query '[?name=='",
    "output-format": "az acr show --name myacr -o text",
    "extension-flag": "az containerapp debug --name api --resource-group rg --revisions r1",
    "deprecated-flag": "az acr network-rule add --name myacr --subnet /s",
    "store-true-with-value": "az acr check-health --name myacr --yes please",
}


@pytest.fixture(scope="module")
def checked() -> dict[str, list[str]]:
    """Every step's az invocations and the seeded typos, checked in one azure-cli process."""
    requests: list[dict[str, Any]] = []
    for where, step in all_rendered():
        if step.command:
            requests.extend(az_requests(where, step.command, step.console))
        for fragment in _PROSE_COMMAND.findall(step.text):
            for invocation in invocations(fragment):
                requests.append(_request(where + "/prose", invocation, fragment=True))
    for where, step in seed_steps():
        if step["command"]:
            console = not step["command"].startswith(("az ", "docker ", "principal=", "subnet="))
            requests.extend(az_requests(where, step["command"], console))
        for fragment in _PROSE_COMMAND.findall(step["text"]):
            for invocation in invocations(fragment):
                requests.append(_request(where + "/prose", invocation, fragment=True))
    for name, command in SEEDED_TYPOS.items():
        for invocation in invocations(command)[:1]:
            requests.append(_request(f"typo/{name}", invocation, fragment=False))
    results = check_with_azure_cli(requests)
    problems: dict[str, list[str]] = {}
    for request, found in zip(requests, results, strict=True):
        problems.setdefault(request["where"], []).extend(found)
    return problems


def test_every_rendered_command_passes_the_azure_cli_check(checked: dict[str, list[str]]) -> None:
    bad = {where: found for where, found in checked.items() if found and "typo/" not in where}
    assert bad == {}
    assert sum(1 for where in checked if where.startswith("seed/")) > 50


def test_classify_prints_the_commands_that_were_checked() -> None:
    """What an engineer reads (``classify`` without ``--json``) are the checked commands."""
    printed = pullwatch("classify", "--all", stdin=SEED_DUMP)
    assert printed.returncode == 0, printed.stderr
    commands = [
        line.removeprefix("       $ ")
        for line in printed.stdout.splitlines()
        if line.startswith("       $ ")
    ]
    checked_commands = [step["command"] for _, step in seed_steps() if step["command"]]
    assert commands == checked_commands and len(commands) > 50


@pytest.mark.parametrize("typo", sorted(SEEDED_TYPOS))
def test_the_check_catches_a_seeded_typo(checked: dict[str, list[str]], typo: str) -> None:
    assert checked[f"typo/{typo}"], f"{SEEDED_TYPOS[typo]} passed the check"


def test_every_step_with_a_command_names_its_source_page() -> None:
    for info in CATALOG.values():
        for step in (*info.steps, *job_steps(info)):
            assert step.source.startswith(
                ("https://learn.microsoft.com/", "https://docs.docker")
            ) or (step.command is None and step.source.startswith("https://aka.ms/")), (
                f"{info.cause}/{step.id}: {step.source!r}"
            )


def test_step_ids_are_unique_within_a_cause() -> None:
    for info in CATALOG.values():
        ids = [step.id for step in info.steps]
        assert len(ids) == len(set(ids)), info.cause
        assert VALUES_STEP_ID not in ids


def test_shell_syntax_stays_simple() -> None:
    for where, step in all_rendered():
        if step.command and not step.console:
            invocations(step.command)  # raises ShellSyntaxError on pipes, ;, backticks
        assert "`" not in (step.command or ""), where  # Slack cannot show backticks in code
    with pytest.raises(ShellSyntaxError):
        invocations("az acr show --name x | jq .")


def test_every_placeholder_left_is_named_in_words_once() -> None:
    for where, step in all_rendered():
        if step.id == VALUES_STEP_ID:
            continue
        for placeholder in missing_values([step]):
            assert placeholder in VALUE_WORDS, f"{where}: {placeholder} has no words"
    steps = steps_for(Cause.REGISTRY_UNAUTHORIZED, None, ())
    assert steps[0].id == VALUES_STEP_ID
    assert steps[0].text.count("<app>") == 1
    assert "the Container App's name" in steps[0].text
    filled = fill_values(steps, REVISION)
    assert "<app>" not in filled[0].text
    assert not any("<app>" in (s.command or "") for s in filled)


def test_alert_steps_have_no_values_step_when_everything_is_known() -> None:
    steps = rendered(Cause.REGISTRY_UNAUTHORIZED, "acr-custom-dns")
    assert steps[0].id != VALUES_STEP_ID


class TestOrderAndPrerequisites:
    def ids(self, cause: Cause, facts: str) -> list[str]:
        return [step.id for step in rendered(cause, facts)]

    def test_identity_then_principal_then_role_then_registry_then_restart(self) -> None:
        ids = self.ids(Cause.REGISTRY_UNAUTHORIZED, "acr-custom-dns")
        order = ["principal-system", "acr-pull-role", "registry-set-identity", "restart-revision"]
        assert [ids.index(i) for i in order] == sorted(ids.index(i) for i in order)
        assert ids.index("registry-set-admin") < ids.index("restart-revision")

    def test_role_assignment_uses_the_object_id_and_says_what_it_needs(self) -> None:
        (step,) = (
            s
            for s in rendered(Cause.REGISTRY_UNAUTHORIZED, "acr-custom-dns")
            if s.id == "acr-pull-role"
        )
        assert '--assignee-object-id "$principal"' in (step.command or "")
        assert "--assignee-principal-type ServicePrincipal" in (step.command or "")
        assert "--assignee " not in (step.command or "")
        assert "Container Registry Repository Reader" in (step.command or "")
        assert "User Access Administrator" in step.text and "10 minutes" in step.text

    def test_every_credential_change_ends_with_a_restart(self) -> None:
        for cause in (Cause.REGISTRY_UNAUTHORIZED, Cause.REPOSITORY_ACCESS_DENIED):
            for facts in FACTS:
                ids = self.ids(cause, facts)
                changes = [
                    i for i, s in enumerate(ids) if s.startswith(("registry-set", "acr-pull-role"))
                ]
                assert changes and ids.index("restart-revision") > max(changes), (cause, facts)

    def test_no_step_uses_exec_with_a_command_line(self) -> None:
        for where, step in all_rendered():
            assert "containerapp exec" not in (step.command or ""), where

    def test_debug_console_opens_a_healthy_revision_before_its_tool_line(self) -> None:
        for where, step in all_rendered():
            if step.console:
                assert (step.command or "").split()[0] in DEBUG_CONSOLE_TOOLS, where
        steps = rendered(Cause.DNS_FAILURE, "acr-custom-dns")
        debug = next(i for i, s in enumerate(steps) if s.id == "debug-console")
        assert steps[debug + 1].console
        assert "healthState=='Healthy'" in (steps[debug].command or "")


class TestFactsDecideWhichStepsAppear:
    def ids(self, cause: Cause, facts: str) -> set[str]:
        return {step.id for step in rendered(cause, facts)}

    def test_no_custom_dns_step_when_the_log_names_azure_dns(self) -> None:
        assert "vnet-dns-servers" not in self.ids(Cause.DNS_FAILURE, "acr-azure-dns")
        assert "vnet-dns-servers" in self.ids(Cause.DNS_FAILURE, "acr-custom-dns")

    def test_seed_dns_message_names_azure_dns_and_skips_the_custom_dns_step(self) -> None:
        diagnosis = classify(SEED_CASES[6][1])
        assert diagnosis.dns_server == "168.63.129.16"
        ids = {s.id for s in diagnosis.remediation}
        assert "vnet-dns-servers" not in ids
        assert {"dns-zone-links", "dns-zone-records"} <= ids

    def test_acr_429_gets_throttling_advice_not_docker_hub_advice(self) -> None:
        ids = self.ids(Cause.RATE_LIMITED, "acr-custom-dns")
        assert {"acr-throttling", "acr-sku"} <= ids
        assert not ids & {"acr-cache-rule", "use-cache", "registry-set-password"}

    def test_docker_hub_429_gets_the_artifact_cache_and_credentials(self) -> None:
        steps = rendered(Cause.RATE_LIMITED, "docker-hub")
        ids = [s.id for s in steps]
        assert ids.index("acr-cache-rule") < ids.index("use-cache")
        assert "acr-sku" not in ids
        cache = steps[ids.index("acr-cache-rule")].command or ""
        assert "--source-repo docker.io/library/nginx --target-repo library/nginx" in cache

    def test_both_private_dns_names_and_the_zone_link_are_checked(self) -> None:
        steps = {s.id: s for s in rendered(Cause.DNS_FAILURE, "acr-azure-dns")}
        assert "privatelink.azurecr.io" in (steps["dns-zone-links"].command or "")
        assert "myacr.<region>.data" in steps["dns-zone-records"].text
        assert "link vnet create" in (steps["dns-zone-link-create"].command or "")

    def test_firewall_uses_the_logged_ip_or_looks_the_addresses_up(self) -> None:
        with_ip = {s.id: s for s in rendered(Cause.REGISTRY_FIREWALL, "acr-custom-dns")}
        assert "outbound-ips" not in with_ip
        assert "--ip-address 20.61.4.17" in (with_ip["acr-ip-rule"].command or "")
        assert "Premium" in with_ip["acr-network"].text
        assert "outbound-ips" in self.ids(Cause.REGISTRY_FIREWALL, "acr-azure-dns")

    def test_not_acr_gets_no_az_acr_commands_for_its_registry(self) -> None:
        for cause in Cause:
            for step in rendered(cause, "ghcr"):
                command = step.command or ""
                assert not re.search(r"--(name|registry) ghcr\b", command), (cause, step.id)
                assert "az acr " not in command or "<your-acr>" in command, (cause, step.id)

    def test_multi_container_apps_get_the_container_by_its_image(self) -> None:
        steps = {s.id: s for s in rendered(Cause.IMAGE_NOT_FOUND, "acr-custom-dns")}
        command = steps["update-image"].command or ""
        assert "--container-name" in command
        assert "containers[?image=='myacr.azurecr.io/orders/api:1.4.2']" in command
        assert "init container" in steps["update-image"].text
        shown = {s.id: s for s in rendered(Cause.INVALID_IMAGE_REFERENCE, "no-facts")}
        assert "initContainers" in (shown["show-images"].command or "")


class TestUntrustedFacts:
    def test_a_fact_with_shell_syntax_never_reaches_a_command(self) -> None:
        hostile = {"image": "$(reboot)", "registry": "x;rm", "repository": "a`b`", "tag": "1"}
        for cause in Cause:
            for step in steps_for(cause, "myacr.azurecr.io", tuple(sorted(hostile.items()))):
                command = step.command or ""
                assert "reboot" not in command and ";rm" not in command and "`" not in command

    def test_an_unusual_resource_group_is_quoted(self) -> None:
        steps = fill_values(steps_for(Cause.UNKNOWN, None, ()), {"<resource-group>": "rg(prod)"})
        assert "--resource-group 'rg(prod)'" in (steps[-3].command or steps[1].command or "")


def test_readme_cause_table_says_what_each_first_step_checks_and_why() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for cause in Cause:
        (row,) = [line for line in readme.splitlines() if line.startswith(f"| `{cause.value}` |")]
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert len(cells) == 5 and all(cells), row
        # A command the row says the first step runs is how the first step starts, for some
        # registry (ACR or not): the table cannot drift from the catalog's order.
        firsts = set()
        for facts in FACTS:
            steps = [s for s in rendered(cause, facts) if s.id != VALUES_STEP_ID]
            firsts.add(steps[0].command or "")
        for named in re.findall(r"`((?:az|docker) [^`]+)`", cells[3]):
            assert any(first.startswith(named) for first in firsts), (cause.value, named, firsts)


class TestJobSteps:
    """A job's alert: the job commands, no revision, an execution to pull again."""

    def commands(self, cause: Cause, facts: str = "acr-custom-dns") -> list[str]:
        return [s.command for s in rendered(cause, facts, job=True) if s.command]

    def test_no_app_or_revision_command_is_left(self) -> None:
        for cause in Cause:
            for facts in FACTS:
                for command in self.commands(cause, facts):
                    assert "revision restart" not in command and "--revision api--" not in command
                    assert "<app>" not in command
                    for group in ("registry", "identity", "show", "update"):
                        assert f"az containerapp {group} " not in command, command

    def test_credential_changes_end_with_a_new_execution(self) -> None:
        ids = [s.id for s in rendered(Cause.REGISTRY_UNAUTHORIZED, "acr-custom-dns", job=True)]
        assert ids.index("registry-set-identity") < ids.index("job-start")
        assert ids[-1] == "job-executions"

    def test_the_debug_console_opens_on_an_app_of_the_environment(self) -> None:
        [console] = [
            s
            for s in rendered(Cause.DNS_FAILURE, "acr-custom-dns", job=True)
            if s.id == "debug-console"
        ]
        assert "az containerapp debug --name api " in (console.command or "")
        unfilled = steps_for(Cause.DNS_FAILURE, "myacr.azurecr.io", (), job=True)
        assert "<environment-app>: a Container App in the job's environment" in unfilled[0].text
