"""One ledger entry per failing revision: its state, the evidence alerts are built from. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from notifiers.alert import Deployment, Link, Step
from pullwatch.fetch.records import revision_key
from pullwatch.ledger.fields import iso, opt_str, opt_time, parse_time
from pullwatch.ledger.routed import ChannelRecord


class EntryState(StrEnum):
    """Where a revision stands."""

    DEBOUNCING = "debouncing"  # failing with a transient cause, below the grace thresholds
    FIRING = "firing"  # alert-worthy (notified unless silenced)
    RESOLVED = "resolved"  # recovered (success evidence or quiet); pruned after retention


@dataclass(frozen=True)
class Evidence:
    """Everything an alert about the revision shows, kept so alerts outlive the logs."""

    cause: str  # cause id, e.g. "registry-unauthorized"
    cause_title: str
    transient: bool
    summary: str
    image: str | None = None
    facts: tuple[tuple[str, str], ...] = ()
    steps: tuple[Step, ...] = ()
    links: tuple[Link, ...] = ()
    sample: str = ""
    # How the classifier decided (issue 14): its rule, e.g. "http-status:403", and "high",
    # "medium" (a family match: alerts say "likely") or "low". None in entries from before.
    rule: str | None = None
    confidence: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "cause": self.cause,
            "cause_title": self.cause_title,
            "transient": self.transient,
            "summary": self.summary,
            "image": self.image,
            "facts": [[label, value] for label, value in self.facts],
            "steps": [{"text": s.text, "command": s.command} for s in self.steps],
            "links": [{"label": link.label, "url": link.url} for link in self.links],
            "sample": self.sample,
            "rule": self.rule,
            "confidence": self.confidence,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(
            cause=str(data["cause"]),
            cause_title=str(data["cause_title"]),
            transient=bool(data["transient"]),
            summary=str(data["summary"]),
            image=opt_str(data.get("image")),
            facts=tuple((str(label), str(value)) for label, value in data.get("facts", [])),
            steps=tuple(
                Step(str(s["text"]), opt_str(s.get("command"))) for s in data.get("steps", [])
            ),
            links=tuple(Link(str(x["label"]), str(x["url"])) for x in data.get("links", [])),
            sample=str(data.get("sample", "")),
            rule=opt_str(data.get("rule")),
            confidence=opt_str(data.get("confidence")),
        )


@dataclass(frozen=True)
class ImageState:
    """One image of a revision in this incident: when it failed, how often, and whether it
    recovered (a success naming it, or its container, after its last failure)."""

    image: str  # as logged; "" for failure rows that name no image
    container: str = ""
    cause: str = ""  # the cause id of its last failure ("" when it never failed)
    first_failure: datetime | None = None
    last_failure: datetime | None = None
    attempts: int = 0  # failed pull attempts (each row once)
    first_success: datetime | None = None
    last_success: datetime | None = None

    @property
    def failed(self) -> bool:
        return self.last_failure is not None

    @property
    def failing(self) -> bool:
        """Failed, and no success since its last failure."""
        return self.last_failure is not None and (
            self.last_success is None or self.last_success <= self.last_failure
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "container": self.container,
            "cause": self.cause,
            "first_failure": iso(self.first_failure),
            "last_failure": iso(self.last_failure),
            "attempts": self.attempts,
            "first_success": iso(self.first_success),
            "last_success": iso(self.last_success),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImageState:
        return cls(
            image=str(data.get("image", "")),
            container=str(data.get("container", "")),
            cause=str(data.get("cause", "")),
            first_failure=opt_time(data.get("first_failure")),
            last_failure=opt_time(data.get("last_failure")),
            attempts=int(data.get("attempts", 0)),
            first_success=opt_time(data.get("first_success")),
            last_success=opt_time(data.get("last_success")),
        )


@dataclass(frozen=True)
class Entry:
    """One revision's incident: current truth (evidence, counts) and what was last notified."""

    environment: str
    app: str
    revision: str
    state: EntryState
    evidence: Evidence
    count: int  # failed pull attempts in this incident (each row once, across ticks)
    first_seen: datetime  # first failure of this incident
    last_seen: datetime  # last failure
    last_success: datetime | None = None
    resource_id: str = ""
    notified_cause: str | None = None  # cause in the last notification queued (None: never)
    notified_cause_title: str | None = None
    notified_at: datetime | None = None  # when the last firing/reminder/cause-changed was queued
    resolved_at: datetime | None = None
    resolution: str | None = None  # how we know it recovered
    silenced_by: str | None = None  # silence id that muted the last decision
    channels: tuple[
        ChannelRecord, ...
    ] = ()  # what each routed channel was told, and by which route
    # The last configuration check (pullwatch.verify.Verification.to_dict()), kept with the
    # entry so the next alert and `ledger show` can say what was found.
    verification: Mapping[str, Any] | None = None
    job: str = ""  # a Container Apps job (its key is environment/job/<job>)
    executions: tuple[str, ...] = ()  # the job's executions that failed (the newest MAX_EXECUTIONS)
    # Each image of the revision (empty in entries from before images were tracked).
    images: tuple[ImageState, ...] = ()
    # The pull-attempt rows already counted (row id -> TimeGenerated), so re-read rows add
    # nothing; forgotten once older than every workspace's query window.
    rows: Mapping[str, datetime] = field(default_factory=dict)
    # A write Azure refused for its image (no revision exists): who, when, and its key
    # (``deployment/<group>/<app>/<image>``), which replaces environment/app/revision.
    deployment: Deployment | None = None
    subject: str = ""

    @property
    def key(self) -> str:
        return self.subject or revision_key(self.environment, self.app, self.revision, self.job)

    @property
    def notified(self) -> bool:
        """True once a firing alert was queued for this incident."""
        return self.notified_cause is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "app": self.app,
            "revision": self.revision,
            "state": self.state.value,
            "evidence": self.evidence.to_dict(),
            "count": self.count,
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
            "last_success": iso(self.last_success),
            "resource_id": self.resource_id,
            "notified_cause": self.notified_cause,
            "notified_cause_title": self.notified_cause_title,
            "notified_at": iso(self.notified_at),
            "resolved_at": iso(self.resolved_at),
            "resolution": self.resolution,
            "silenced_by": self.silenced_by,
            "channels": [record.to_dict() for record in self.channels],
            "verification": dict(self.verification) if self.verification else None,
            "job": self.job,
            "executions": list(self.executions),
            "images": [image.to_dict() for image in self.images],
            "rows": {row: int(when.timestamp()) for row, when in sorted(self.rows.items())},
            "deployment": self.deployment.to_dict() if self.deployment else None,
            "subject": self.subject,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Entry:
        return cls(
            environment=str(data["environment"]),
            app=str(data["app"]),
            revision=str(data["revision"]),
            state=EntryState(data["state"]),
            evidence=Evidence.from_dict(data["evidence"]),
            count=int(data["count"]),
            first_seen=parse_time(data["first_seen"]),
            last_seen=parse_time(data["last_seen"]),
            last_success=opt_time(data.get("last_success")),
            resource_id=str(data.get("resource_id", "")),
            notified_cause=opt_str(data.get("notified_cause")),
            notified_cause_title=opt_str(data.get("notified_cause_title")),
            notified_at=opt_time(data.get("notified_at")),
            resolved_at=opt_time(data.get("resolved_at")),
            resolution=opt_str(data.get("resolution")),
            silenced_by=opt_str(data.get("silenced_by")),
            channels=tuple(ChannelRecord.from_dict(r) for r in data.get("channels", [])),
            verification=data.get("verification") or None,
            job=str(data.get("job", "")),
            executions=tuple(str(e) for e in data.get("executions", [])),
            images=tuple(ImageState.from_dict(i) for i in data.get("images", [])),
            rows={
                str(row): datetime.fromtimestamp(int(when), UTC)
                for row, when in dict(data.get("rows", {})).items()
            },
            deployment=Deployment.from_dict(data.get("deployment")),
            subject=str(data.get("subject", "")),
        )
