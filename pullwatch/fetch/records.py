"""What a log source returns for one tick: groups of rows per revision and log text, reduced.

A source (Log Analytics or a file export) reduces raw rows to ``RevisionGroup``s, one per
(environment, app, revision, job, container, signal, reason, log text), so a result's size
follows the number of distinct messages of failing revisions, not the number of log lines. A
failure group carries its distinct pull-attempt rows (``RowRef``: time, replica, the platform's
``Count``) so the ledger can count each row once across ticks however often it is re-read.
``EnvironmentActivity`` says how many system-log rows (of any kind) each environment wrote in
the window: the evidence that logs are flowing. ``WorkspaceOutcome`` says, per workspace,
whether it answered and up to which ingestion time. ``FetchResult`` holds all of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from classifiers.signals import BACKOFF, FAILURE, PULLING, SUCCESS
from pullwatch.fetch.jobs import job_key


class Signal(StrEnum):
    """What kind of row a group holds (``classifiers.signals.row_kind``)."""

    FAILURE = FAILURE  # a pull attempt failed
    BACKOFF = BACKOFF  # the kubelet backs off before the next attempt (still failing)
    SUCCESS = SUCCESS  # an image was pulled or a container started
    PULLING = PULLING  # a pull started ("Pulling image '<ref>'"): which image the revision pulls


@dataclass(frozen=True)
class RowRef:
    """One distinct pull-attempt row behind a failure group."""

    time: datetime  # TimeGenerated
    replica: str
    count: int = 1  # the platform's Count column (how many times it saw the event)


@dataclass(frozen=True)
class RevisionGroup:
    """The rows of one revision (or job) with one signal, reason and log text, reduced."""

    environment: str
    app: str
    revision: str
    signal: Signal
    reason: str  # the Reason column ("" when absent)
    count: int  # rows matched (duplicates included)
    first_seen: datetime  # min TimeGenerated
    last_seen: datetime  # max TimeGenerated
    last_ingested: datetime | None  # max ingestion time (None for sources without it)
    text: str = ""  # the log text, at most SAMPLE_CHARS characters
    container: str = ""  # ContainerName (resource-specific table) when the row has one
    job: str = ""  # JobName when a Container Apps job wrote the row
    # distinct pull-attempt rows (failure groups only), at most MAX_ROW_REFS of them
    rows: tuple[RowRef, ...] = ()
    resource_id: str = ""  # _ResourceId when the table has it
    workspace: str = ""  # the workspace the rows came from ("" for files)

    @property
    def key(self) -> str:
        return revision_key(self.environment, self.app, self.revision, self.job)

    @property
    def samples(self) -> tuple[str, ...]:
        return (self.text,) if self.text else ()


def revision_key(environment: str, app: str, revision: str, job: str = "") -> str:
    """The ledger key: ``environment/app/revision``, or ``environment/job/<job>`` for a job."""
    if job and not revision:
        return job_key(environment, job)
    return f"{environment}/{app}/{revision}"


def deployment_key(resource_group: str, name: str, image: str | None, kind: str = "app") -> str:
    """The ledger key of a refused deployment: ``deployment/<group>/<app or job>/<image>``."""
    what = name if kind == "app" else f"job:{name}"
    return f"deployment/{resource_group.lower()}/{what}/{image or '-'}"


class DeploymentKind(StrEnum):
    APP = "app"  # Microsoft.App/containerApps
    JOB = "job"  # Microsoft.App/jobs


@dataclass(frozen=True)
class DeploymentFailure:
    """One failed write of a Container App or job, about its image (one correlation)."""

    resource_id: str  # lower case: ARM ids are case-insensitive and the table mixes cases
    name: str  # the app or job name (Container Apps names are lower case)
    kind: DeploymentKind
    subscription: str
    resource_group: str
    caller: str  # who deployed: a UPN, or an object id for a service principal
    time: datetime  # the first failed row's TimeGenerated
    correlation_id: str
    operation: str  # OperationNameValue, e.g. MICROSOFT.APP/CONTAINERAPPS/WRITE
    error_code: str  # e.g. InvalidParameterValueInContainerTemplate, ContainerAppOperationError
    error_message: str  # at most MESSAGE_CHARS
    image: str | None  # the reference the message names, if it names one
    cause: str  # the cause id classifiers.classify gives the message
    last_seen: datetime
    last_ingested: datetime | None  # None when read from a file without ingestion times
    rows: int  # failed rows behind this failure (duplicates and Failed/Failure pairs)

    @property
    def key(self) -> str:
        """The ledger key of a deployment without a revision: its app (or job) and image."""
        return deployment_key(self.resource_group, self.name, self.image, self.kind)


@dataclass(frozen=True)
class EnvironmentActivity:
    """How many system-log rows of any kind an environment wrote to a table in the window."""

    environment: str
    table: str
    rows: int
    first_seen: datetime
    last_seen: datetime  # the newest row: logs flowed at least until then
    workspace: str = ""


@dataclass(frozen=True)
class WorkspaceOutcome:
    """How one workspace (or file) answered this tick."""

    workspace: str
    max_ingested: datetime | None = None  # advance its watermark to this (when whole)
    partial: bool = False  # some data is missing: keep its watermark
    error: str | None = None  # one line when it did not answer (403, 5xx, timeout, ...)
    warnings: tuple[str, ...] = ()

    @property
    def answered(self) -> bool:
        return self.error is None


SAMPLE_CHARS = 2000
MAX_ROW_REFS = 200  # distinct attempt rows returned per group and tick (more are not counted)
ANY_WORKSPACE = "*"  # a watermark key that applies to every workspace without its own


@dataclass(frozen=True)
class FetchResult:
    """One tick's reading: the groups, each workspace's outcome, the environments' activity."""

    groups: tuple[RevisionGroup, ...]
    workspaces: tuple[WorkspaceOutcome, ...] = ()
    activity: tuple[EnvironmentActivity, ...] = ()
    rows_matched: int = 0  # raw rows behind the groups (sum of counts)
    warnings: tuple[str, ...] = ()
    # the earliest TimeGenerated any workspace's window reached back to: a row older than this
    # is never read again, so the ledger may forget having counted it
    horizon: datetime | None = None
    # The Activity Log part (pullwatch.fetch.activity): writes Azure refused for the image,
    # the newest successful write of each resource id, Activity Log rows skipped as unreadable
    deployments: tuple[DeploymentFailure, ...] = ()
    deployed: Mapping[str, datetime] = field(default_factory=dict)
    activity_skipped: int = 0

    @property
    def partial(self) -> bool:
        """True when some data is missing (a partial answer or a workspace that failed)."""
        return any(w.partial or not w.answered for w in self.workspaces)

    @property
    def failed(self) -> tuple[WorkspaceOutcome, ...]:
        return tuple(w for w in self.workspaces if not w.answered)

    @property
    def max_ingested(self) -> datetime | None:
        times = [w.max_ingested for w in self.workspaces if w.max_ingested is not None]
        return max(times, default=None)


def newest_writes(readings: Iterable[Mapping[str, datetime]]) -> dict[str, datetime]:
    """Each resource id's newest successful write over several readings."""
    newest: dict[str, datetime] = {}
    for deployed in readings:
        for resource_id, when in deployed.items():
            newest[resource_id] = max(when, newest.get(resource_id, when))
    return newest


class FailureSource(Protocol):
    """Somewhere image-pull failures can be read from (Log Analytics, a file export)."""

    def fetch(
        self, *, watermarks: Mapping[str, datetime] | None = None, now: datetime
    ) -> FetchResult:
        """Groups for rows ingested after each workspace's watermark minus the lookback (the
        overlap), or within the lookback of ``now`` when a workspace has none (``watermarks``
        by workspace id; ``ANY_WORKSPACE`` applies to workspaces without their own)."""
        ...
