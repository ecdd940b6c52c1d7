"""Remediation: the catalog's summary and steps for a cause, chosen and filled by one line's facts.
Pure.

``summary_for`` and ``steps_for`` take the cause and the facts as a sorted tuple of
``(name, value)`` pairs (``image``, ``registry``, ``registry_name``, ``repository``, ``tag``,
``client_ip``, ``dns_server``, ``http_status``), so results are cached per distinct set of facts.

Facts decide which steps appear (``causes.Only``): ACR-only steps when the registry is an Azure
Container Registry (or unknown), the artifact-cache steps for a public registry ACR can cache,
the custom-DNS step unless the log names Azure DNS (168.63.129.16) as the server, the outbound-IP
lookup only when the log does not name the address the registry saw.

A fact goes into a command only when it is made of characters that are safe in a shell word
(log text is untrusted: an "image" of ``$(reboot)`` stays a placeholder). A value the line does
not hold is shown as ``<name>``; when placeholders remain, a first step (``values-to-supply``)
says once, in words, what to put in place of each. ``fill_values`` fills the revision's names
(``<app>``, ``<resource-group>``, ...) later, when they are known, and rewrites that step.
"""

from __future__ import annotations

import re
import shlex
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache

from classifiers.causes import (
    CATALOG,
    Cause,
    CauseInfo,
    Only,
    StepTemplate,
    deployment_steps,
    job_steps,
)
from classifiers.reference import is_acr_host

AZURE_DNS = "168.63.129.16"
VALUES_STEP_ID = "values-to-supply"
# Upstream registries an ACR artifact cache rule can pull from (container-registry-artifact-cache).
CACHE_UPSTREAMS = frozenset(
    {
        "docker.io",
        "mcr.microsoft.com",
        "public.ecr.aws",
        "ghcr.io",
        "nvcr.io",
        "quay.io",
        "registry.k8s.io",
        "gcr.io",
    }
)
# What to put in place of each placeholder a step may still hold, in words.
VALUE_WORDS: Mapping[str, str] = {
    "<app>": "the Container App's name",
    "<resource-group>": "the Container App's resource group",
    "<environment>": "the Container Apps environment's name",
    "<revision>": "the failing revision's name",
    "<image>": "the image reference the app uses",
    "<registry>": "the registry's host name (myregistry.azurecr.io)",
    "<registry-name>": "the registry's name (myregistry of myregistry.azurecr.io)",
    "<repository>": "the repository (team/app)",
    "<tag>": "the tag",
    "<client-ip>": "the address the registry refused (one the outbound-IP step prints)",
    "<cache-rule>": "a name for the cache rule",
    "<existing-tag>": "a tag that exists (the tag-list step shows them)",
    "<registry-user>": "the registry account's user name",
    "<your-acr>": "the name of an Azure Container Registry of yours",
    "<dns-zone-resource-group>": "the resource group of the private DNS zone privatelink.azurecr.io",
    "<region>": "the registry's region (westeurope)",
    "<container>": "the container's name",
    "<job>": "the Container Apps job's name",
    "<execution>": "the failed execution's name (the execution list step shows it)",
    "<environment-app>": "a Container App in the job's environment (a job has no revision "
    "the debug console can attach to)",
}
_SAFE_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,511}")
_PLACEHOLDER = re.compile(r"<[a-z][a-z0-9-]*>")
_NOT_RULE_CHAR = re.compile(r"[^A-Za-z0-9]+")


@dataclass(frozen=True)
class RemediationStep:
    """One step: what to do and, when there is one, the command to paste.

    ``id`` is stable for a cause (other stages point at a step by it); ``source`` is the page the
    step follows; ``console`` marks a line typed in the debug console the step before opened.
    """

    text: str
    command: str | None = None
    id: str = ""
    source: str = ""
    console: bool = False


class _Placeholders(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return f"<{key.replace('_', '-')}>"


_PROSE = {
    "image": "the image",
    "registry": "the registry",
    "client_ip": "the environment's outbound IP",
    "dns_server": "the configured DNS server",
    "http_status": "a 5xx error",
}
_FORMATTER = string.Formatter()


@lru_cache(maxsize=4096)
def summary_for(cause: Cause, fill: tuple[tuple[str, str], ...]) -> str:
    values = dict(_PROSE)
    values.update(fill)
    text = _FORMATTER.vformat(CATALOG[cause].summary, (), _Placeholders(values))
    return "T" + text[1:] if text.startswith("the ") else text  # a sentence, not a host name


@lru_cache(maxsize=4096)
def steps_for(
    cause: Cause,
    registry: str | None,
    fill: tuple[tuple[str, str], ...],
    *,
    job: bool = False,
    deployment: bool = False,
) -> tuple[RemediationStep, ...]:
    """The steps for ``cause`` with these facts; ``job``: as a Container Apps job's alert shows
    them (``causes.job_steps``); ``deployment``: for a write Azure refused, no revision
    (``causes.deployment_steps``)."""
    return remediation(CATALOG[cause], registry, dict(fill), job=job, deployment=deployment)


def remediation(
    info: CauseInfo,
    registry: str | None,
    values: Mapping[str, str],
    *,
    job: bool = False,
    deployment: bool = False,
) -> tuple[RemediationStep, ...]:
    """The catalog's steps for ``info`` that the facts allow, filled with ``values``."""
    templates = job_steps(info) if job else info.steps
    if deployment:
        templates = deployment_steps(templates)
    facts = facts_of(registry, values)
    text_values = _Placeholders({**_derived(values), **values})
    command_values = _Placeholders(
        {key: value for key, value in text_values.items() if _SAFE_WORD.fullmatch(value)}
    )
    steps = [
        RemediationStep(
            text=_FORMATTER.vformat(step.text, (), text_values),
            command=_FORMATTER.vformat(step.command, (), command_values) if step.command else None,
            id=step.id,
            source=step.source,
            console=step.console,
        )
        for step in templates
        if applies(step, facts)
    ]
    return _with_values_step(steps)


def applies(step: StepTemplate, facts: frozenset[Only]) -> bool:
    """Whether every fact ``step`` needs holds."""
    return all(need in facts for need in step.only)


def facts_of(registry: str | None, values: Mapping[str, str]) -> frozenset[Only]:
    """The ``Only`` facts that hold for a line with this registry and these values."""
    acr = registry is None or is_acr_host(registry)
    facts = {Only.ACR if acr else Only.NOT_ACR}
    if not acr and registry is not None and registry.lower() in CACHE_UPSTREAMS:
        facts.add(Only.CACHEABLE)
    if values.get("dns_server") != AZURE_DNS:
        facts.add(Only.OTHER_DNS)
    if not values.get("client_ip"):
        facts.add(Only.NO_CLIENT_IP)
    return frozenset(facts)


def _derived(values: Mapping[str, str]) -> dict[str, str]:
    derived = {}
    repository = values.get("repository")
    if repository:
        rule = _NOT_RULE_CHAR.sub("-", repository).strip("-")[:50].strip("-")
        if rule:
            derived["cache_rule"] = rule
    return derived


def fill_values(
    steps: Iterable[RemediationStep], values: Mapping[str, str | None]
) -> tuple[RemediationStep, ...]:
    """``steps`` with placeholders such as ``<app>`` replaced by known ``values``.

    A value that is not a safe shell word is quoted in commands (names come from log columns).
    The ``values-to-supply`` step is rebuilt for what is still missing.
    """
    known = {key: value for key, value in values.items() if value}

    def fill(text: str, quote: bool) -> str:
        for placeholder, value in known.items():
            word = value if not quote or _SAFE_WORD.fullmatch(value) else shlex.quote(value)
            text = text.replace(placeholder, word)
        return text

    filled = [
        replace(step, text=fill(step.text, False), command=fill(step.command, True))
        if step.command
        else replace(step, text=fill(step.text, False))
        for step in steps
        if step.id != VALUES_STEP_ID
    ]
    return _with_values_step(filled)


def missing_values(steps: Iterable[RemediationStep]) -> tuple[str, ...]:
    """The placeholders still in the steps' commands and texts, in order of first appearance."""
    seen: dict[str, None] = {}
    for step in steps:
        if step.id == VALUES_STEP_ID:
            continue
        for part in (step.text, step.command or ""):
            for placeholder in _PLACEHOLDER.findall(part):
                seen.setdefault(placeholder)
    return tuple(seen)


def _with_values_step(steps: list[RemediationStep]) -> tuple[RemediationStep, ...]:
    missing = missing_values(steps)
    if not missing:
        return tuple(steps)
    words = "; ".join(
        f"{placeholder}: {VALUE_WORDS.get(placeholder, placeholder.strip('<>').replace('-', ' '))}"
        for placeholder in missing
    )
    note = RemediationStep(f"Before pasting, put in place of {words}", id=VALUES_STEP_ID)
    return (note, *steps)
