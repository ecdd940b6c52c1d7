"""Remediation: the catalog's summary and steps for a cause, filled with the facts of one log line.
Pure.

``summary_for`` and ``steps_for`` take the cause and the facts as a sorted tuple of
``(name, value)`` pairs (``image``, ``registry``, ``registry_name``, ``repository``, ``tag``,
``client_ip``, ``dns_server``, ``http_status``), so results are cached per distinct set of facts.
A fact the line does not hold is shown as ``<name>``; steps marked for ACR (or not) are kept only
when the registry is (or is not) an Azure Container Registry.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache

from classifiers.causes import CATALOG, Cause, CauseInfo, Only
from classifiers.reference import is_acr_host


@dataclass(frozen=True)
class RemediationStep:
    """One step: what to do and, when there is one, the command to paste."""

    text: str
    command: str | None = None


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
    cause: Cause, registry: str | None, fill: tuple[tuple[str, str], ...]
) -> tuple[RemediationStep, ...]:
    return remediation(CATALOG[cause], registry, dict(fill))


def remediation(
    info: CauseInfo, registry: str | None, values: dict[str, str]
) -> tuple[RemediationStep, ...]:
    """The catalog's steps for ``info`` filled with ``values``; ACR-only steps when it is ACR."""
    acr = registry is None or is_acr_host(registry)
    steps = []
    for step in info.steps:
        if (step.only is Only.ACR and not acr) or (step.only is Only.NOT_ACR and acr):
            continue
        fill = _Placeholders(values)
        text = _FORMATTER.vformat(step.text, (), fill)
        command = _FORMATTER.vformat(step.command, (), fill) if step.command else None
        steps.append(RemediationStep(text, command))
    return tuple(steps)
