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

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from classifiers.signals import BACKOFF, FAILURE, PULLING, SUCCESS


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
        return f"{environment}/job/{job}"
    return f"{environment}/{app}/{revision}"


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
MAX_SAMPLES = 10
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


class FailureSource(Protocol):
    """Somewhere image-pull failures can be read from (Log Analytics, a file export)."""

    def fetch(
        self, *, watermarks: Mapping[str, datetime] | None = None, now: datetime
    ) -> FetchResult:
        """Groups for rows ingested after each workspace's watermark minus the lookback (the
        overlap), or within the lookback of ``now`` when a workspace has none (``watermarks``
        by workspace id; ``ANY_WORKSPACE`` applies to workspaces without their own)."""
        ...
