"""What a failing part's error class probably means, and how to fix it: one table. Pure.

``advice(kind, error, context)`` walks ``RULES`` in order and returns the first that matches
the part's kind, its service (channels) and its error class: a short ``meaning`` (the words
after the dash in "cannot deliver to channel teams-2 for 2 h: HTTP 404 — the workflow was
probably deleted") and the steps, with commands filled in from what the settings know
(``Context``) and ``<placeholders>`` for the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from notifiers.alert import Step
from pullwatch.ledger.health import PartKind
from pullwatch.settings import CHANNEL_SETTING

CHECK = "python -m pullwatch doctor"


@dataclass(frozen=True)
class Context:
    """What the settings tell about the deployment, to fill in the commands."""

    name: str  # the part's name: workspace id, channel name, "ledger", workspace id (logs)
    service: str | None = None  # a channel's service
    client_id: str | None = None  # AZURE_CLIENT_ID: the Function's identity
    workspace_resource_id: str | None = None  # PULLWATCH_WORKSPACE_RESOURCE_ID
    resource_group: str | None = None  # PULLWATCH_RESOURCE_GROUP
    environments: tuple[str, ...] = ()  # Container Apps environments last seen (logs)
    ledger: str = "the ledger"  # where it is: "blob pullwatch/ledger.json", a file path


@dataclass(frozen=True)
class Advice:
    meaning: str
    steps: tuple[Step, ...]


Build = Callable[[Context], tuple[Step, ...]]


@dataclass(frozen=True)
class Rule:
    kind: PartKind
    errors: str  # regular expression over the error class (full match)
    meaning: str
    steps: Build
    services: tuple[str, ...] = ()  # channels only; empty: any service

    def matches(self, kind: PartKind, error: str, service: str | None) -> bool:
        if kind is not self.kind or not re.fullmatch(self.errors, error):
            return False
        return not self.services or service in self.services


def _setting(context: Context) -> str:
    return CHANNEL_SETTING.get(context.service or "", "the channel's setting")


def _new_url(what: str) -> Build:
    def steps(context: Context) -> tuple[Step, ...]:
        return (
            Step(what),
            Step(
                f"Put the new URL into {_setting(context)} as `{context.name}=<URL>` (in Azure: "
                "the Key Vault secret behind the setting, then refresh the app's references as "
                "the README's 'Rotate a webhook URL' shows)",
                "azd hooks run postprovision",
            ),
            Step("Check the channel receives a test message", f"{CHECK} --send-test"),
        )

    return steps


def _check_only(text: str) -> Build:
    def steps(context: Context) -> tuple[Step, ...]:
        return (
            Step(text),
            Step("Check the channel receives a test message", f"{CHECK} --send-test"),
        )

    return steps


def _bug(context: Context) -> tuple[Step, ...]:
    return (
        Step(
            "Find the error in the Function's log (Application Insights → Logs: traces where "
            f"message has '{context.name}') and report it as a pullwatch bug"
        ),
        Step(
            "The messages it could not send are kept as dead letters",
            "python -m pullwatch ledger show",
        ),
    )


def _workspace_scope(context: Context) -> str:
    if context.workspace_resource_id:
        return context.workspace_resource_id
    return (
        "$(az monitor log-analytics workspace list --query "
        f"\"[?customerId=='{context.name}'].id\" --output tsv)"
    )


def _grant_reader(context: Context) -> tuple[Step, ...]:
    assignee = context.client_id or "<identity-client-id>"
    return (
        Step(
            "Give the Function's identity the Log Analytics Reader role on the workspace (or "
            "run the deployment again: it assigns the role)",
            f'az role assignment create --assignee {assignee} --role "Log Analytics Reader" '
            f"--scope {_workspace_scope(context)}",
        ),
        Step("A new role takes up to 10 minutes to apply; check it", CHECK),
    )


def _workspace_id(context: Context) -> tuple[Step, ...]:
    return (
        Step(
            "Check PULLWATCH_WORKSPACE_IDS holds the workspace's customer id (a GUID, not its "
            "resource id)",
            f"az monitor log-analytics workspace show --ids {_workspace_scope(context)} "
            "--query customerId --output tsv",
        ),
        Step("Check the query works", CHECK),
    )


def _logs_destination(context: Context) -> tuple[Step, ...]:
    group = context.resource_group or "<resource-group>"
    names = context.environments[:3] or ("<environment>",)
    steps = [
        Step(
            f"See where environment {name} sends its logs (destination log-analytics writes "
            "ContainerAppSystemLogs_CL, azure-monitor needs a diagnostic setting that sends "
            "ContainerAppSystemLogs to this workspace)",
            f"az containerapp env show --name {name} --resource-group {group} "
            "--query properties.appLogsConfiguration",
        )
        for name in names
    ]
    steps.append(
        Step("Check which system-log tables of the workspace have rows in the last 24 hours", CHECK)
    )
    return tuple(steps)


def _plain(*texts: str) -> Build:
    def steps(context: Context) -> tuple[Step, ...]:
        return tuple(Step(text) for text in texts)

    return steps


def _ledger_permission(context: Context) -> tuple[Step, ...]:
    return (
        Step(
            f"Give the Function's identity write access to {context.ledger} (blob: the Storage "
            "Blob Data Contributor or Owner role on the storage account; file: a writable "
            "directory)"
        ),
        Step("Check the ledger can be read, written and leased", CHECK),
    )


RULES: tuple[Rule, ...] = (
    # --- channels ---------------------------------------------------------------------------
    Rule(
        PartKind.CHANNEL,
        r"HTTP (404|410)",
        "the workflow was probably deleted or turned off",
        _new_url(
            "Create the workflow again in the Teams channel (channel ⋯ → Workflows → post to a "
            "channel when a webhook request is received) and copy its URL"
        ),
        services=("teams",),
    ),
    Rule(
        PartKind.CHANNEL,
        r"HTTP 404",
        "the Slack channel or the app's webhook was removed (channel_not_found, no_service)",
        _new_url("Add a new incoming webhook for the channel to the Slack app and copy its URL"),
        services=("slack",),
    ),
    Rule(
        PartKind.CHANNEL,
        r"HTTP 410",
        "the Slack channel was archived (channel_is_archived)",
        _new_url("Unarchive the channel, or add a webhook for another channel and copy its URL"),
        services=("slack",),
    ),
    Rule(
        PartKind.CHANNEL,
        r"HTTP 403",
        "the Slack workspace does not let the app post there (action_prohibited)",
        _check_only("Ask a Slack admin to allow the app to post in the channel"),
        services=("slack",),
    ),
    Rule(
        PartKind.CHANNEL,
        r"HTTP (401|403)",
        "the URL's signature is wrong or was rotated",
        _new_url("Copy the webhook's current URL (with its sig= or key) from where it was made"),
    ),
    Rule(
        PartKind.CHANNEL,
        r"HTTP 404",
        "no such webhook: it was probably deleted",
        _new_url("Create the webhook again and copy its URL"),
    ),
    Rule(
        PartKind.CHANNEL,
        r"HTTP (400|413|422)",
        "the service refuses pullwatch's messages (a bug or a new limit of the service)",
        _bug,
    ),
    Rule(
        PartKind.CHANNEL,
        r"HTTP 429",
        "the service is throttling pullwatch",
        _check_only("Nothing to do if it passes; otherwise give pullwatch a channel of its own"),
    ),
    Rule(
        PartKind.CHANNEL,
        r"HTTP 5\d\d|HTTP 2\d\d with an error in the answer",
        "the service is failing (a Teams workflow's run history shows why)",
        _check_only("Check the service's status page, or the workflow's run history"),
    ),
    Rule(
        PartKind.CHANNEL,
        r"timeout|connection failed|TLS",
        "the service does not answer from the Function's network",
        _check_only(
            "Check the Function's outbound access (VNet integration, NSG, firewall or proxy "
            "rules) to the service's host, and its certificate"
        ),
    ),
    Rule(
        PartKind.CHANNEL,
        r"(rendering|sending|request) failed \(.*\)",
        "a pullwatch bug stops these messages",
        _bug,
    ),
    # --- workspaces -------------------------------------------------------------------------
    Rule(
        PartKind.WORKSPACE,
        r"HTTP 403",
        "grant the Function's identity Log Analytics Reader on the workspace",
        _grant_reader,
    ),
    Rule(
        PartKind.WORKSPACE,
        r"HTTP 404",
        "no such workspace: check PULLWATCH_WORKSPACE_IDS",
        _workspace_id,
    ),
    Rule(
        PartKind.WORKSPACE,
        r"HTTP 401|no token",
        "the Function's identity cannot get a token Log Analytics accepts",
        _plain(
            "Check AZURE_CLIENT_ID is the client id of the Function's user-assigned identity",
            "Check PULLWATCH_LOGS_ENDPOINT is the workspace's cloud (public: "
            "https://api.loganalytics.io/v1)",
        ),
    ),
    Rule(
        PartKind.WORKSPACE,
        r"HTTP 400",
        "the workspace rejects the query: check PULLWATCH_TABLE names a table it has",
        _plain("Set PULLWATCH_TABLE to auto, or to the system-log table the workspace has"),
    ),
    Rule(
        PartKind.WORKSPACE,
        r"HTTP (408|429|5\d\d)|no answer",
        "Log Analytics is throttling or not answering; every tick tries again",
        _plain("Check the Azure status page for Log Analytics in the workspace's region"),
    ),
    # --- the ledger -------------------------------------------------------------------------
    Rule(
        PartKind.LEDGER,
        r"HTTP 403|not authorized|EACCES|EPERM|EROFS",
        "the Function may not write it",
        _ledger_permission,
    ),
    Rule(
        PartKind.LEDGER,
        r"ENOSPC|EDQUOT",
        "the disk holding it is full",
        _plain("Free space where PULLWATCH_LEDGER_PATH points, or use a blob ledger"),
    ),
    Rule(
        PartKind.LEDGER,
        r"conflict|busy",
        "another run writes the same ledger",
        _plain(
            "Look for a second writer: a `python -m pullwatch run` from a terminal, or another "
            "Function app with the same PULLWATCH_LEDGER_* settings"
        ),
    ),
    # --- the log pipeline -------------------------------------------------------------------
    Rule(
        PartKind.LOGS,
        r".*",
        "check the environments' logging destination / diagnostic settings",
        _logs_destination,
    ),
)

_FALLBACK: dict[PartKind, Advice] = {
    PartKind.CHANNEL: Advice(
        "the service refuses or does not answer",
        (Step("Check the channel receives a test message", f"{CHECK} --send-test"),),
    ),
    PartKind.WORKSPACE: Advice(
        "the log query fails", (Step("Check the query and the identity", CHECK),)
    ),
    PartKind.LEDGER: Advice(
        "the ledger cannot be saved",
        (Step("Check the ledger can be read, written and leased", CHECK),),
    ),
    PartKind.LOGS: Advice("no rows arrive", ()),
}


def advice(kind: PartKind, error: str, context: Context) -> Advice:
    """What ``error`` probably means for a part of ``kind``, and the steps to fix it."""
    for rule in RULES:
        if rule.matches(kind, error, context.service):
            return Advice(rule.meaning, rule.steps(context))
    return _FALLBACK[kind]
