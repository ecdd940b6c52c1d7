"""The health record: how each part of pullwatch fared in recent ticks, kept in the ledger. Pure.

A ``Health`` section of the ledger document holds one ``PartHealth`` per part pullwatch
depends on, named ``<kind>:<name>``:

- ``workspace:<id>``: the log query of one Log Analytics workspace;
- ``ledger:ledger``: the ledger itself (load and save);
- ``channel:<name>``: one configured channel (``teams-2``, ``orders-slack``);
- ``logs:<workspace id>``: whether Container Apps system logs still arrive in a workspace.

Per part: consecutive failed ticks (``failures``; 0 = healthy), when the current run of
failures began (``since``) and last failed, and the last error *class* (``HTTP 404``,
``timeout``; never a URL, a token or a service's own text: see ``pullwatch.health.errors``).
It also remembers what was said about the part (``announced_at``: the last "cannot" or
reminder of this run of failures; ``last_announced``: of any run, which keeps a flapping part
from storming) and, once a part that was announced works again, that a "healthy again" notice
is owed (``recovered_at``).

Besides the parts: ``last_success`` (the last tick that read the logs and saved its decisions).
Where each environment's system logs arrive is the ledger's own ``environments`` (the plan
stage keeps it: the evidence that logs flow); the log pipeline's part is judged from it.

The section is versioned (``HEALTH_VERSION``); a ledger written before it existed has none and
loads with an empty record. Every operation returns a new ``Health``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pullwatch.ledger.fields import iso, opt_str, opt_time, utc

HEALTH_VERSION = 1
MAX_ERROR_CLASS = 80  # an error class is a short label, never a message


class PartKind(StrEnum):
    WORKSPACE = "workspace"
    LEDGER = "ledger"
    CHANNEL = "channel"
    LOGS = "logs"


LEDGER_PART = "ledger:ledger"


def part_id(kind: PartKind, name: str) -> str:
    """``channel:teams-2``: how a part is named in the record and in messages' keys."""
    return f"{kind.value}:{name}"


@dataclass(frozen=True)
class PartHealth:
    """How one part fared: its current run of failures and what was said about it."""

    kind: PartKind
    name: str
    failures: int = 0  # consecutive ticks that saw it fail; 0: healthy
    since: datetime | None = None  # when the current run of failures began
    last_failure: datetime | None = None
    last_error: str | None = None  # error class of the last failure (safe to show)
    service: str | None = None  # a channel's service: teams, slack, webhook, pagerduty
    announced_at: datetime | None = None  # last "cannot" or reminder about this run
    last_announced: datetime | None = None  # last "cannot" about any run (storm guard)
    recovered_at: datetime | None = None  # it works again; a "healthy again" is owed
    probed_at: datetime | None = None  # a failing channel's last probe (a notice to itself)

    @property
    def id(self) -> str:
        return part_id(self.kind, self.name)

    @property
    def failing(self) -> bool:
        return self.failures > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "name": self.name,
            "failures": self.failures,
            "since": iso(self.since),
            "last_failure": iso(self.last_failure),
            "last_error": self.last_error,
            "service": self.service,
            "announced_at": iso(self.announced_at),
            "last_announced": iso(self.last_announced),
            "recovered_at": iso(self.recovered_at),
            "probed_at": iso(self.probed_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PartHealth:
        return cls(
            kind=PartKind(data["kind"]),
            name=str(data["name"]),
            failures=int(data.get("failures", 0)),
            since=opt_time(data.get("since")),
            last_failure=opt_time(data.get("last_failure")),
            last_error=opt_str(data.get("last_error")),
            service=opt_str(data.get("service")),
            announced_at=opt_time(data.get("announced_at")),
            last_announced=opt_time(data.get("last_announced")),
            recovered_at=opt_time(data.get("recovered_at")),
            probed_at=opt_time(data.get("probed_at")),
        )


@dataclass(frozen=True)
class Health:
    """The health section of the ledger."""

    parts: Mapping[str, PartHealth] = field(default_factory=dict)
    last_success: datetime | None = None

    def part(self, kind: PartKind, name: str) -> PartHealth | None:
        return self.parts.get(part_id(kind, name))

    def failing(self) -> list[PartHealth]:
        return [p for _, p in sorted(self.parts.items()) if p.failing]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": HEALTH_VERSION,
            "last_success": iso(self.last_success),
            "parts": [self.parts[key].to_dict() for key in sorted(self.parts)],
        }

    @classmethod
    def from_dict(cls, data: Any) -> Health:
        """Read the section; ``None`` (a ledger from before it existed) is an empty record.
        Raises ``ValueError`` for another version (the ledger then refuses to load)."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ValueError("the health section is not an object")
        version = data.get("version")
        if version != HEALTH_VERSION:
            raise ValueError(
                f"the health section has version {str(version)[:20]!r}, this pullwatch reads "
                f"version {HEALTH_VERSION} (was it written by a newer pullwatch?)"
            )
        parts = [PartHealth.from_dict(p) for p in data.get("parts", [])]
        return cls(parts={p.id: p for p in parts}, last_success=opt_time(data.get("last_success")))


# --- pure operations ---------------------------------------------------------------------------


def observe_failure(
    health: Health,
    kind: PartKind,
    name: str,
    error: str,
    now: datetime,
    *,
    since: datetime | None = None,
    service: str | None = None,
) -> Health:
    """One more tick in which the part failed with error class ``error``. ``since``: when the
    failure really began, if known earlier than ``now`` (logs that stopped arriving)."""
    key = part_id(kind, name)
    old = health.parts.get(key) or PartHealth(kind, name)
    began = old.since if old.failing and old.since is not None else utc(since or now)
    part = replace(
        old,
        failures=old.failures + 1,
        since=began,
        last_failure=utc(now),
        last_error=error[:MAX_ERROR_CLASS],
        service=service or old.service,
        recovered_at=None,
    )
    if not old.failing and old.recovered_at is not None:
        # failing again before "healthy again" went out: one run of failures, told once
        part = replace(part, since=old.since or began)
    return replace(health, parts={**health.parts, key: part})


def observe_success(
    health: Health,
    kind: PartKind,
    name: str,
    now: datetime,
    *,
    told_after: timedelta | None = None,
    service: str | None = None,
) -> Health:
    """The part worked in this tick. If its failures had been announced, a "healthy again"
    notice is now owed (``recovered_at``); so it is, for a part whose failures cannot be
    announced while they last (the ledger), when they lasted ``told_after`` or longer."""
    key = part_id(kind, name)
    old = health.parts.get(key)
    if old is None:
        part = PartHealth(kind, name, service=service)
        return replace(health, parts={**health.parts, key: part})
    if not old.failing:
        return health if service in (None, old.service) else _with(health, old, service=service)
    lasted = utc(now) - old.since if old.since is not None else timedelta(0)
    owed = old.announced_at is not None or (told_after is not None and lasted >= told_after)
    if owed:
        part = replace(old, failures=0, recovered_at=utc(now), service=service or old.service)
    else:  # nobody was told: nothing to take back
        part = replace(
            old, failures=0, since=None, recovered_at=None, service=service or old.service
        )
    return replace(health, parts={**health.parts, key: part})


def mark_announced(health: Health, part: PartHealth, now: datetime) -> Health:
    """A "cannot" or a reminder about ``part`` was queued now."""
    return _with(health, part, announced_at=utc(now), last_announced=utc(now))


def mark_probed(health: Health, part: PartHealth, now: datetime) -> Health:
    """A probe (a notice to the failing channel itself) was queued now."""
    return _with(health, part, probed_at=utc(now))


def mark_recovery_told(health: Health, part: PartHealth) -> Health:
    """The "healthy again" notice about ``part`` was queued: its run of failures is over."""
    return _with(health, part, since=None, announced_at=None, recovered_at=None, probed_at=None)


def know_parts(health: Health, kind: PartKind, names: Mapping[str, str | None]) -> Health:
    """Add a healthy part for each name not in the record yet (name -> service)."""
    new = {
        part_id(kind, name): PartHealth(kind, name, service=service)
        for name, service in names.items()
        if part_id(kind, name) not in health.parts
    }
    return replace(health, parts={**health.parts, **new}) if new else health


def forget_parts(health: Health, kind: PartKind, keep: Iterable[str]) -> Health:
    """Drop the parts of ``kind`` not named in ``keep`` (a channel no longer configured)."""
    names = set(keep)
    parts = {k: p for k, p in health.parts.items() if p.kind is not kind or p.name in names}
    return health if len(parts) == len(health.parts) else replace(health, parts=parts)


def with_last_success(health: Health, now: datetime) -> Health:
    return replace(health, last_success=utc(now))


def _with(health: Health, part: PartHealth, **changes: Any) -> Health:
    changed = replace(part, **changes)
    return replace(health, parts={**health.parts, part.id: changed})
