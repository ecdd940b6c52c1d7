"""The alert record every notifier renders, and its versioned JSON form.

An ``Alert`` is self-contained: it carries the words and facts to show (titles, steps, links),
so notifiers need nothing else from pullwatch. ``to_dict``/``from_dict`` give the documented
JSON schema (``ALERT_SCHEMA``) used by the generic webhook and by the ledger's outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

ALERT_SCHEMA = "pullwatch.alert/v1"


class AlertKind(StrEnum):
    """Why a message is sent (like Alertmanager's notify reasons)."""

    FIRING = "firing"  # first alert for a failing revision
    REMINDER = "reminder"  # still failing after the repeat interval
    CAUSE_CHANGED = "cause-changed"  # same revision, different (or newly identified) cause
    RESOLVED = "resolved"  # the revision pulled its image, or went quiet
    # pullwatch's own health (issue 17): about a part of pullwatch, not a revision; the
    # alert's ``app`` is the part's kind (channel, workspace, ledger, logs), ``revision`` its
    # name, ``environment`` is "pullwatch" (see ``pullwatch.health.selfalerts``).
    HEALTH_FAILING = "health-failing"  # a part has been failing longer than allowed
    HEALTH_REMINDER = "health-reminder"  # still failing after the repeat interval
    HEALTH_RECOVERED = "health-recovered"  # it works again


HEALTH_KINDS = frozenset(
    {AlertKind.HEALTH_FAILING, AlertKind.HEALTH_REMINDER, AlertKind.HEALTH_RECOVERED}
)


@dataclass(frozen=True)
class Step:
    """One remediation step: what to do, and the command to paste (if any)."""

    text: str
    command: str | None = None


@dataclass(frozen=True)
class Finding:
    """What a check of the app's configuration found (``registry-not-configured``, ...)."""

    id: str
    text: str  # one sentence with real names


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Deployment:
    """A write of the app (or job) that Azure Resource Manager refused (the Activity Log)."""

    resource_id: str
    caller: str  # who deployed: a user principal name, or an object id for a service principal
    at: datetime  # when the write failed
    correlation_id: str = ""
    operation: str = ""  # MICROSOFT.APP/CONTAINERAPPS/WRITE or MICROSOFT.APP/JOBS/WRITE
    error_code: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource_id": self.resource_id,
            "caller": self.caller,
            "at": self.at.isoformat(),
            "correlation_id": self.correlation_id,
            "operation": self.operation,
            "error_code": self.error_code,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Deployment | None:
        if not isinstance(data, dict):
            return None
        return cls(
            resource_id=str(data.get("resource_id", "")),
            caller=str(data.get("caller", "")),
            at=datetime.fromisoformat(str(data["at"])),
            correlation_id=str(data.get("correlation_id", "")),
            operation=str(data.get("operation", "")),
            error_code=str(data.get("error_code", "")),
        )


@dataclass(frozen=True)
class Alert:
    """One notification about one Container App revision, Container Apps job, or a deployment
    that Azure refused (``deployment``; no revision exists then)."""

    kind: AlertKind
    environment: str
    app: str
    revision: str
    cause: str  # cause id, e.g. "registry-unauthorized"
    cause_title: str
    summary: str  # one line: what is wrong
    transient: bool = False
    facts: tuple[tuple[str, str], ...] = ()  # ("Image", "acr.azurecr.io/app:1"), ...
    steps: tuple[Step, ...] = ()
    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    sample: str = ""  # one log line (untrusted text)
    links: tuple[Link, ...] = ()
    previous_cause: str | None = None  # for cause-changed
    previous_cause_title: str | None = None
    resolution: str | None = None  # for resolved: how we know
    reason: str = ""  # why this was sent now (decision reason)
    image: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # Verified diagnosis (pullwatch.verify): what the configuration check found, the one fix
    # that matches (shown before ``steps``, which then read "if that is not it"), when it was
    # checked, or why it could not be checked.
    findings: tuple[Finding, ...] = ()
    fix: Step | None = None
    checked_at: datetime | None = None
    check_error: str | None = None
    # How the classifier decided: its rule ("http-status:403") and confidence ("high", "medium",
    # "low"); None when not known (alerts stored before these were recorded).
    rule: str | None = None
    confidence: str | None = None
    # A Container Apps job (no revision; ``app`` is empty) and the executions that failed.
    job: str = ""
    executions: tuple[str, ...] = ()
    deployment: Deployment | None = None
    subject_key: str = ""  # the ledger's key of what this is about (set by pullwatch)

    @property
    def name(self) -> str:
        """The app's or the job's name."""
        return self.app or self.job

    @property
    def where(self) -> tuple[tuple[str, str], ...]:
        """Labelled fields saying what this is about, as messages list them."""
        if self.deployment is not None:
            return (
                ("Job" if self.job else "App", self.name),
                ("Deployed by", self.deployment.caller or "unknown"),
                ("Failed at", f"{self.deployment.at:%Y-%m-%d %H:%M} UTC"),
            )
        if self.job:
            executions = ", ".join(self.executions[-3:]) or "-"
            return (
                ("Job", self.job),
                ("Environment", self.environment),
                ("Executions", executions),
            )
        return (("App", self.app), ("Environment", self.environment), ("Revision", self.revision))

    @property
    def where_parts(self) -> tuple[str, ...]:
        """The short form: ``app · revision · environment`` (``job <name> · environment``,
        ``deployment of <name>``)."""
        if self.deployment is not None:
            return (f"deployment of {self.name}", self.deployment.caller or "unknown caller")
        if self.job:
            return (f"job {self.job}", self.environment)
        return (self.app, self.revision, self.environment)

    @property
    def where_text(self) -> str:
        """``app revision r in env`` / ``job j in env`` / ``deployment of app by caller``."""
        if self.deployment is not None:
            by = f" by {self.deployment.caller}" if self.deployment.caller else ""
            image = f" of {self.image}" if self.image else ""
            return f"deployment{image} to {self.name}{by}"
        if self.job:
            return f"job {self.job} in {self.environment}"
        return f"{self.app} revision {self.revision} in {self.environment}"

    @property
    def about_pullwatch(self) -> bool:
        """A notice about pullwatch's own health, not about a revision."""
        return self.kind in HEALTH_KINDS

    @property
    def verified(self) -> bool:
        return bool(self.findings)

    @property
    def likely(self) -> bool:
        """The cause is a family match (medium confidence): messages say "likely"."""
        return self.confidence == "medium"

    @property
    def headline_cause(self) -> str:
        """``cause_title`` as a headline says it: "Likely image or tag not found" when likely."""
        return likely_title(self.cause_title) if self.likely else self.cause_title

    @property
    def key(self) -> str:
        """The dedup key: the ledger's (``environment/app/revision``, ``environment/job/<job>``,
        a deployment's); alerts stored before it was recorded are revisions."""
        return self.subject_key or f"{self.environment}/{self.app}/{self.revision}"

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON form (schema ``pullwatch.alert/v1``)."""
        return {
            "schema": ALERT_SCHEMA,
            "kind": self.kind.value,
            "key": self.key,
            "environment": self.environment,
            "app": self.app,
            "revision": self.revision,
            "cause": self.cause,
            "cause_title": self.cause_title,
            "summary": self.summary,
            "transient": self.transient,
            "image": self.image,
            "facts": [{"label": k, "value": v} for k, v in self.facts],
            "steps": [{"text": s.text, "command": s.command} for s in self.steps],
            "count": self.count,
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
            "sample": self.sample,
            "links": [{"label": link.label, "url": link.url} for link in self.links],
            "previous_cause": self.previous_cause,
            "previous_cause_title": self.previous_cause_title,
            "resolution": self.resolution,
            "reason": self.reason,
            "extra": dict(self.extra),
            "findings": [{"id": f.id, "text": f.text} for f in self.findings],
            "fix": {"text": self.fix.text, "command": self.fix.command} if self.fix else None,
            "checked_at": _iso(self.checked_at),
            "check_error": self.check_error,
            "rule": self.rule,
            "confidence": self.confidence,
            **({"job": self.job, "executions": list(self.executions)} if self.job else {}),
            **({"deployment": self.deployment.to_dict()} if self.deployment else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Alert:
        """Inverse of ``to_dict``; raises ``ValueError`` on another schema."""
        if data.get("schema") != ALERT_SCHEMA:
            raise ValueError(f"unsupported alert schema {data.get('schema')!r}")
        return cls(
            kind=AlertKind(data["kind"]),
            environment=str(data["environment"]),
            app=str(data["app"]),
            revision=str(data["revision"]),
            cause=str(data["cause"]),
            cause_title=str(data["cause_title"]),
            summary=str(data["summary"]),
            transient=bool(data.get("transient", False)),
            image=data.get("image"),
            facts=tuple((str(f["label"]), str(f["value"])) for f in data.get("facts", [])),
            steps=tuple(Step(str(s["text"]), s.get("command")) for s in data.get("steps", [])),
            count=int(data.get("count", 0)),
            first_seen=_parse(data.get("first_seen")),
            last_seen=_parse(data.get("last_seen")),
            sample=str(data.get("sample", "")),
            links=tuple(Link(str(x["label"]), str(x["url"])) for x in data.get("links", [])),
            previous_cause=data.get("previous_cause"),
            previous_cause_title=data.get("previous_cause_title"),
            resolution=data.get("resolution"),
            reason=str(data.get("reason", "")),
            extra={str(k): str(v) for k, v in dict(data.get("extra", {})).items()},
            findings=tuple(
                Finding(str(f["id"]), str(f["text"])) for f in data.get("findings") or []
            ),
            fix=_step(data.get("fix")),
            checked_at=_parse(data.get("checked_at")),
            check_error=data.get("check_error"),
            rule=_opt_str(data.get("rule")),
            confidence=_opt_str(data.get("confidence")),
            job=str(data.get("job", "")),
            executions=tuple(str(e) for e in data.get("executions") or []),
            deployment=Deployment.from_dict(data.get("deployment")),
            subject_key=_subject_key(data),
        )


def _subject_key(data: dict[str, Any]) -> str:
    """The stored key, when it is not the revision's own ``environment/app/revision``."""
    key = str(data.get("key", ""))
    default = f"{data['environment']}/{data['app']}/{data['revision']}"
    return "" if key == default else key


def likely_title(title: str) -> str:
    """The title after "Likely", lower-cased at its start unless it opens with an acronym."""
    if not title:
        return "Likely"
    if len(title) > 1 and title[1].isupper():
        return f"Likely {title}"
    return f"Likely {title[0].lower()}{title[1:]}"


def _opt_str(value: Any) -> str | None:
    return str(value) if value is not None else None


def _step(value: Any) -> Step | None:
    if not isinstance(value, dict):
        return None
    return Step(str(value["text"]), value.get("command"))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None
