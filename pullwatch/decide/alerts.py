"""Build notifier ``Alert``s from what the ledger remembers about a revision. Pure.

``evidence_from_observation`` turns a tick's ``RevisionObservation`` into the ledger's
``Evidence`` (facts, remediation steps with the revision's names filled in, portal and
troubleshooting links, the decisive sample trimmed); ``build_alert`` turns a ledger ``Entry``
into the ``Alert`` every notifier renders. Alerts are built from the entry, never from the logs,
so reminders and resolutions can be sent after the revision's log lines are gone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from classifiers import Diagnosis, RemediationStep
from classifiers.remediation import fill_values, steps_for
from notifiers.alert import Alert, AlertKind, Link, Step
from pullwatch.decide.observe import RevisionObservation
from pullwatch.fetch.activity import correlation_query
from pullwatch.fetch.portal import BEFORE, logs_scope, revision_query, share_link, storm_query
from pullwatch.fetch.records import DeploymentKind
from pullwatch.ledger import Entry, Evidence
from pullwatch.settings import Settings, TableMode

SAMPLE_CHARS = 600
PORTAL_URL = "https://portal.azure.com"
_SUBSCRIPTION = re.compile(r"/subscriptions/([^/]+)", re.IGNORECASE)
_RESOURCE_GROUP = re.compile(r"/resourceGroups/([^/]+)", re.IGNORECASE)
_CONTAINER_APP = re.compile(
    r"^(/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.App/containerApps/[^/]+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class AlertContext:
    """What the deployment knows beyond the logs: where the Container Apps live (for links)."""

    subscription_id: str | None = None
    resource_group: str | None = None
    portal_url: str = PORTAL_URL
    workspace_resource_id: str | None = None  # the Logs blade links open this workspace
    table: TableMode = TableMode.AUTO  # which table(s) the links' queries read

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertContext:
        return cls(
            subscription_id=settings.subscription_id,
            resource_group=settings.resource_group,
            workspace_resource_id=settings.workspace_resource_id,
            table=settings.table,
        )


def evidence_from_observation(
    observation: RevisionObservation, context: AlertContext | None = None
) -> Evidence:
    """The evidence of a failing observation (``ValueError`` if it has no diagnosis)."""
    diagnosis = observation.diagnosis
    if diagnosis is None:
        raise ValueError(f"{observation.key} has no failure to take evidence from")
    context = context or AlertContext()
    resource_group = resource_group_of(observation.resource_id) or context.resource_group
    return Evidence(
        cause=diagnosis.cause.value,
        cause_title=diagnosis.title,
        transient=diagnosis.transient,
        summary=diagnosis.summary,
        image=diagnosis.image,
        facts=facts_of(diagnosis, observation.reasons),
        steps=tuple(
            Step(step.text, step.command)
            for step in fill_steps(
                remediation_of(diagnosis, observation), observation, resource_group
            )
        ),
        links=links_of(observation, diagnosis.doc_url, context),
        sample=trim_sample(observation.samples[0] if observation.samples else ""),
        rule=diagnosis.rule or None,
        confidence=diagnosis.confidence.value,
    )


def facts_of(diagnosis: Diagnosis, reasons: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    """The labelled facts the log line holds, in a fixed order, empty ones left out."""
    facts = (
        ("Image", diagnosis.image),
        ("Registry", diagnosis.registry),
        ("HTTP status", str(diagnosis.http_status) if diagnosis.http_status else None),
        ("Client IP", diagnosis.client_ip),
        ("DNS server", diagnosis.dns_server),
        ("Reason", ", ".join(reasons) if reasons else None),
    )
    return tuple((label, value) for label, value in facts if value)


def remediation_of(
    diagnosis: Diagnosis, observation: RevisionObservation
) -> tuple[RemediationStep, ...]:
    """The cause's steps: a job's forms for a job (``az containerapp job ...``), no revision
    for a refused deployment."""
    job = bool(observation.job and not observation.revision)
    deployment = observation.deployment is not None
    if job or deployment:
        return steps_for(
            diagnosis.cause,
            diagnosis.registry,
            diagnosis.fill_key(),
            job=job,
            deployment=deployment,
        )
    return diagnosis.remediation


def fill_steps(
    steps: tuple[RemediationStep, ...], observation: RevisionObservation, resource_group: str | None
) -> tuple[RemediationStep, ...]:
    if observation.deployment is not None:
        resource_group = observation.deployment.resource_group or resource_group
    """The steps with the revision's (or job's) names filled in; what is still missing is named
    in words."""
    return fill_values(
        steps,
        {
            "<app>": observation.app,
            "<environment>": observation.environment,
            "<revision>": observation.revision,
            "<resource-group>": resource_group,
            "<job>": observation.job,
            "<execution>": observation.executions[-1] if observation.executions else None,
        },
    )


def links_of(
    observation: RevisionObservation, doc_url: str, context: AlertContext
) -> tuple[Link, ...]:
    """The Container App in the Azure portal (when its resource id can be known), the
    revision's failures in the Logs blade (when a workspace or environment id is known), and the
    docs."""
    links = []
    if observation.deployment is not None:
        return deployment_links(observation, doc_url, context)
    app_id = container_app_id(observation, context)
    if app_id:
        links.append(
            Link("Open the Container App in the Azure portal", portal_link(app_id, context))
        )
    logs = logs_link(observation, context)
    if logs:
        links.append(Link(LOGS_LINK_LABEL, logs))
    if doc_url:
        links.append(Link("Troubleshooting image pull errors", doc_url))
    return tuple(links)


def container_app_id(observation: RevisionObservation, context: AlertContext) -> str | None:
    """The app's ARM id: from the log's resource id, else from subscription + resource group
    (a job's rows name its environment, not the job: no link then)."""
    if observation.job and not observation.app:
        return None
    match = _CONTAINER_APP.match(observation.resource_id)
    if match:
        return match.group(1)
    subscription = _first(_SUBSCRIPTION, observation.resource_id) or context.subscription_id
    group = resource_group_of(observation.resource_id) or context.resource_group
    if subscription and group and observation.app:
        return (
            f"/subscriptions/{subscription}/resourceGroups/{group}"
            f"/providers/Microsoft.App/containerApps/{observation.app}"
        )
    return None


def deployment_links(
    observation: RevisionObservation, doc_url: str, context: AlertContext
) -> tuple[Link, ...]:
    """A refused deployment: the app (or job) in the portal, and the deployment's Activity Log
    rows (by correlation) in the workspace's Logs blade when the workspace is known."""
    failure = observation.deployment
    assert failure is not None
    what = "job" if failure.kind == DeploymentKind.JOB else "Container App"
    base = f"{context.portal_url.rstrip('/')}/#resource{failure.resource_id}"
    links = [Link(f"Open the {what} in the Azure portal", f"{base}/overview")]
    if context.workspace_resource_id:
        query = correlation_query(failure)
        links.append(
            Link(
                "The failed deployment in Log Analytics",
                share_link(context.portal_url, context.workspace_resource_id, query),
            )
        )
    if doc_url:
        links.append(Link("Troubleshooting image pull errors", doc_url))
    return tuple(links)


LOGS_LINK_LABEL = "Show the failures in Log Analytics"
STORM_LINK_LABEL = "Every failing revision in Log Analytics"


def logs_link(observation: RevisionObservation, context: AlertContext) -> str | None:
    """The Logs blade with this revision's failure rows queried (``pullwatch.fetch.portal``)."""
    scope = logs_scope(context.workspace_resource_id, [observation.resource_id], context.table)
    if scope is None or observation.first_failure is None:
        return None
    resource, table = scope
    query = revision_query(
        table,
        environment=observation.environment,
        app=observation.app,
        revision=observation.revision,
        since=observation.first_failure - BEFORE,
        job=observation.job,
    )
    return share_link(context.portal_url, resource, query)


def storm_link(
    alerts: Sequence[Alert], context: AlertContext, resource_ids: Sequence[str] = ()
) -> Link | None:
    """The Logs blade with every failing revision since the earliest failure of ``alerts``."""
    scope = logs_scope(context.workspace_resource_id, resource_ids, context.table)
    starts = [a.first_seen for a in alerts if a.first_seen is not None]
    if scope is None or not starts:
        return None
    resource, table = scope
    query = storm_query(table, since=min(starts) - BEFORE)
    return Link(STORM_LINK_LABEL, share_link(context.portal_url, resource, query))


def portal_link(resource_id: str, context: AlertContext) -> str:
    return f"{context.portal_url.rstrip('/')}/#resource{resource_id}/overview"


def resource_group_of(resource_id: str) -> str | None:
    return _first(_RESOURCE_GROUP, resource_id)


def trim_sample(text: str, limit: int = SAMPLE_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_alert(
    entry: Entry,
    kind: AlertKind,
    *,
    reason: str,
    previous_cause: str | None = None,
    previous_cause_title: str | None = None,
    resolution: str | None = None,
) -> Alert:
    """The alert for ``entry`` (its stored evidence and counts), sent because of ``reason``."""
    evidence = entry.evidence
    return Alert(
        kind=kind,
        environment=entry.environment,
        app=entry.app,
        revision=entry.revision,
        cause=evidence.cause,
        cause_title=evidence.cause_title,
        summary=evidence.summary,
        transient=evidence.transient,
        facts=evidence.facts,
        steps=evidence.steps,
        count=entry.count,
        first_seen=entry.first_seen,
        last_seen=entry.last_seen,
        sample=evidence.sample,
        links=evidence.links,
        previous_cause=previous_cause,
        previous_cause_title=previous_cause_title,
        resolution=resolution,
        reason=reason,
        image=evidence.image,
        rule=evidence.rule,
        confidence=evidence.confidence,
        job=entry.job,
        executions=entry.executions,
        # the revision's own environment/app/revision needs no override (Alert.key)
        subject_key=(
            entry.key if entry.key != f"{entry.environment}/{entry.app}/{entry.revision}" else ""
        ),
        deployment=entry.deployment,
    )


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return match.group(1) if match else None
