"""The alert ledger: what pullwatch remembers between ticks, as one versioned JSON document. Pure.

One ``Ledger`` holds:

- ``entries``: one ``Entry`` per revision key (``environment/app/revision``) with the evidence
  needed to build any later alert (cause, facts, steps, links, sample) after the logs are gone,
  the counts and first/last seen times, and what was last *told* (``notified_cause``,
  ``notified_at``) so the decision can compare the truth with what people know;
- ``silences``: matchers (globs on app, revision, environment; exact cause) with an expiry;
- ``outbox``: notifications decided but not yet accepted by every channel, with per-channel
  delivery state, so an outage of one chat service loses nothing and resends nothing elsewhere;
- ``watermark``: the ingestion-time watermark of the log query;
- ``seq``: a counter for short, stable ids (``n12`` notifications, ``s3`` silences).

Every operation returns a new ``Ledger``; nothing here reads the clock or touches storage
(see ``pullwatch.stores``). ``from_json`` raises ``LedgerCorrupt`` on anything it cannot read,
including another schema: a ledger is never silently reset (that would re-alert everything).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from notifiers.alert import Alert, Link, Step
from pullwatch.errors import LedgerCorrupt

LEDGER_SCHEMA = "pullwatch.ledger/v1"


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
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(
            cause=str(data["cause"]),
            cause_title=str(data["cause_title"]),
            transient=bool(data["transient"]),
            summary=str(data["summary"]),
            image=_opt_str(data.get("image")),
            facts=tuple((str(label), str(value)) for label, value in data.get("facts", [])),
            steps=tuple(
                Step(str(s["text"]), _opt_str(s.get("command"))) for s in data.get("steps", [])
            ),
            links=tuple(Link(str(x["label"]), str(x["url"])) for x in data.get("links", [])),
            sample=str(data.get("sample", "")),
        )


@dataclass(frozen=True)
class Entry:
    """One revision's incident: current truth (evidence, counts) and what was last notified."""

    environment: str
    app: str
    revision: str
    state: EntryState
    evidence: Evidence
    count: int  # failure rows seen in this incident (cumulative across ticks)
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

    @property
    def key(self) -> str:
        return f"{self.environment}/{self.app}/{self.revision}"

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
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
            "last_success": _iso(self.last_success),
            "resource_id": self.resource_id,
            "notified_cause": self.notified_cause,
            "notified_cause_title": self.notified_cause_title,
            "notified_at": _iso(self.notified_at),
            "resolved_at": _iso(self.resolved_at),
            "resolution": self.resolution,
            "silenced_by": self.silenced_by,
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
            first_seen=_time(data["first_seen"]),
            last_seen=_time(data["last_seen"]),
            last_success=_opt_time(data.get("last_success")),
            resource_id=str(data.get("resource_id", "")),
            notified_cause=_opt_str(data.get("notified_cause")),
            notified_cause_title=_opt_str(data.get("notified_cause_title")),
            notified_at=_opt_time(data.get("notified_at")),
            resolved_at=_opt_time(data.get("resolved_at")),
            resolution=_opt_str(data.get("resolution")),
            silenced_by=_opt_str(data.get("silenced_by")),
        )


@dataclass(frozen=True)
class Silence:
    """Mute notifications for matching revisions until ``expires``.

    ``app``, ``revision`` and ``environment`` are shell globs (``fnmatch``, case-insensitive);
    ``cause`` is an exact cause id or None for any cause.
    """

    id: str
    app: str
    expires: datetime
    comment: str
    revision: str = "*"
    environment: str = "*"
    cause: str | None = None
    created: datetime | None = None

    def active(self, now: datetime) -> bool:
        """Active until (not at) ``expires``."""
        return now < self.expires

    def matches(self, environment: str, app: str, revision: str, cause: str) -> bool:
        return (
            _glob(app, self.app)
            and _glob(revision, self.revision)
            and _glob(environment, self.environment)
            and (self.cause is None or self.cause == cause)
        )

    def describe(self) -> str:
        parts = [f"app={self.app}"]
        if self.revision != "*":
            parts.append(f"revision={self.revision}")
        if self.environment != "*":
            parts.append(f"environment={self.environment}")
        if self.cause:
            parts.append(f"cause={self.cause}")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "app": self.app,
            "revision": self.revision,
            "environment": self.environment,
            "cause": self.cause,
            "expires": _iso(self.expires),
            "comment": self.comment,
            "created": _iso(self.created),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Silence:
        return cls(
            id=str(data["id"]),
            app=str(data["app"]),
            revision=str(data.get("revision", "*")),
            environment=str(data.get("environment", "*")),
            cause=_opt_str(data.get("cause")),
            expires=_time(data["expires"]),
            comment=str(data.get("comment", "")),
            created=_opt_time(data.get("created")),
        )


@dataclass(frozen=True)
class ChannelDelivery:
    """One channel's state for one notification."""

    channel: str
    delivered_at: datetime | None = None  # None: still pending
    attempts: int = 0  # failed attempts so far
    last_error: str | None = None  # safe-to-print message of the last failure

    @property
    def pending(self) -> bool:
        return self.delivered_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "delivered_at": _iso(self.delivered_at),
            "attempts": self.attempts,
            "last_error": self.last_error,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChannelDelivery:
        return cls(
            channel=str(data["channel"]),
            delivered_at=_opt_time(data.get("delivered_at")),
            attempts=int(data.get("attempts", 0)),
            last_error=_opt_str(data.get("last_error")),
        )


@dataclass(frozen=True)
class PendingNotification:
    """An alert queued for delivery, kept until every channel it was queued for accepted it."""

    id: str
    alert: Alert
    created: datetime
    deliveries: tuple[ChannelDelivery, ...]

    @property
    def key(self) -> str:
        return self.alert.key

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels that still have to accept this alert."""
        return tuple(d.channel for d in self.deliveries if d.pending)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created": _iso(self.created),
            "deliveries": [d.to_dict() for d in self.deliveries],
            "alert": self.alert.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PendingNotification:
        return cls(
            id=str(data["id"]),
            created=_time(data["created"]),
            deliveries=tuple(ChannelDelivery.from_dict(d) for d in data["deliveries"]),
            alert=Alert.from_dict(dict(data["alert"])),
        )


@dataclass(frozen=True)
class Ledger:
    """The whole document. Immutable: every change returns a new ``Ledger``."""

    entries: Mapping[str, Entry] = field(default_factory=dict)
    silences: tuple[Silence, ...] = ()
    outbox: tuple[PendingNotification, ...] = ()
    watermark: datetime | None = None
    seq: int = 0

    @classmethod
    def empty(cls) -> Ledger:
        return cls()

    def next_id(self, prefix: str) -> tuple[str, Ledger]:
        """A new short id (``n1``, ``s2``...) and the ledger with its counter advanced."""
        seq = self.seq + 1
        return f"{prefix}{seq}", replace(self, seq=seq)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": LEDGER_SCHEMA,
            "watermark": _iso(self.watermark),
            "seq": self.seq,
            "entries": {key: self.entries[key].to_dict() for key in sorted(self.entries)},
            "silences": [s.to_dict() for s in self.silences],
            "outbox": [n.to_dict() for n in self.outbox],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n"

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "ledger") -> Ledger:
        """Read a parsed document; ``LedgerCorrupt`` (naming ``source``) if it is not one."""
        if not isinstance(data, dict):
            raise LedgerCorrupt(
                f"{source} is not a pullwatch ledger (not a JSON object); refusing to overwrite it"
            )
        schema = data.get("schema")
        if schema is None:
            raise LedgerCorrupt(
                f"{source} has no schema field, so it is not a pullwatch ledger; "
                "refusing to overwrite it"
            )
        if schema != LEDGER_SCHEMA:
            raise LedgerCorrupt(
                f"{source} has schema {str(schema)[:60]!r}, expected {LEDGER_SCHEMA!r}; "
                "it was not written by this pullwatch version (refusing to overwrite it)"
            )
        try:
            entries = {}
            for key, value in dict(data.get("entries", {})).items():
                entry = Entry.from_dict(value)
                if entry.key != key:
                    raise ValueError(f"entry {key!r} describes {entry.key!r}")
                entries[key] = entry
            return cls(
                entries=entries,
                silences=tuple(Silence.from_dict(s) for s in data.get("silences", [])),
                outbox=tuple(PendingNotification.from_dict(n) for n in data.get("outbox", [])),
                watermark=_opt_time(data.get("watermark")),
                seq=int(data.get("seq", 0)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise LedgerCorrupt(
                f"{source} is corrupt: {type(error).__name__}: {str(error)[:200]} "
                "(fix or move the document away; it is never reset automatically)"
            ) from None

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = "ledger") -> Ledger:
        """Parse a stored document; ``LedgerCorrupt`` on invalid JSON or another schema."""
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as error:
            raise LedgerCorrupt(
                f"{source} is not valid JSON ({str(error)[:120]}); it is never reset "
                "automatically: fix or move it away to start a new ledger"
            ) from None
        return cls.from_dict(data, source=source)


# --- pure operations ---------------------------------------------------------------------------


def with_watermark(ledger: Ledger, watermark: datetime | None) -> Ledger:
    """The ledger with its ingestion watermark set (call only after a complete tick)."""
    return replace(ledger, watermark=_utc(watermark) if watermark else None)


def with_entry(ledger: Ledger, entry: Entry) -> Ledger:
    return replace(ledger, entries={**ledger.entries, entry.key: entry})


def add_silence(
    ledger: Ledger,
    *,
    app: str,
    expires: datetime,
    comment: str,
    now: datetime,
    revision: str = "*",
    environment: str = "*",
    cause: str | None = None,
) -> tuple[Silence, Ledger]:
    """Add a silence with a new id; returns it and the new ledger."""
    if not comment.strip():
        raise ValueError("a silence needs a comment saying why")
    if expires <= now:
        raise ValueError("a silence must expire in the future")
    silence_id, ledger = ledger.next_id("s")
    silence = Silence(
        id=silence_id,
        app=app,
        revision=revision or "*",
        environment=environment or "*",
        cause=cause or None,
        expires=_utc(expires),
        comment=comment.strip(),
        created=_utc(now),
    )
    return silence, replace(ledger, silences=(*ledger.silences, silence))


def remove_silence(ledger: Ledger, silence_id: str) -> Ledger:
    """The ledger without the silence; ``KeyError`` when there is no such id."""
    kept = tuple(s for s in ledger.silences if s.id != silence_id)
    if len(kept) == len(ledger.silences):
        raise KeyError(silence_id)
    return replace(ledger, silences=kept)


def drop_expired_silences(ledger: Ledger, now: datetime) -> Ledger:
    return replace(ledger, silences=tuple(s for s in ledger.silences if s.active(now)))


def active_silence(
    ledger: Ledger, now: datetime, environment: str, app: str, revision: str, cause: str
) -> Silence | None:
    """The first active silence matching the revision and cause, if any."""
    for silence in ledger.silences:
        if silence.active(now) and silence.matches(environment, app, revision, cause):
            return silence
    return None


def enqueue(
    ledger: Ledger, alert: Alert, channels: Sequence[str], *, now: datetime
) -> tuple[PendingNotification | None, Ledger]:
    """Append ``alert`` to the outbox, pending on every channel (None when there is none)."""
    unique = tuple(dict.fromkeys(channels))
    if not unique:
        return None, ledger
    notification_id, ledger = ledger.next_id("n")
    notification = PendingNotification(
        id=notification_id,
        alert=alert,
        created=_utc(now),
        deliveries=tuple(ChannelDelivery(channel) for channel in unique),
    )
    return notification, replace(ledger, outbox=(*ledger.outbox, notification))


def pending(ledger: Ledger) -> list[PendingNotification]:
    """Notifications still owed to some channel, oldest first (deliver in this order)."""
    return [n for n in ledger.outbox if n.channels]


def mark_delivered(ledger: Ledger, notification_id: str, channel: str, *, now: datetime) -> Ledger:
    """Record that ``channel`` accepted the notification; drop it once every channel has.

    Unknown ids or channels are ignored (the notification may have been dropped already).
    """
    return _update_delivery(
        ledger,
        notification_id,
        channel,
        lambda d: replace(d, delivered_at=_utc(now), last_error=None),
    )


def mark_failed(ledger: Ledger, notification_id: str, channel: str, *, error: str) -> Ledger:
    """Record a failed attempt (kept pending, retried next tick). ``error`` must be safe to print."""
    return _update_delivery(
        ledger,
        notification_id,
        channel,
        lambda d: replace(d, attempts=d.attempts + 1, last_error=error[:300]),
    )


def expire_outbox(
    ledger: Ledger, now: datetime, max_age: timedelta
) -> tuple[Ledger, list[PendingNotification]]:
    """Drop notifications queued more than ``max_age`` ago that some channel never accepted
    (an archived Slack channel, a deleted workflow): the ledger must not grow without bound.
    Returns the new ledger and what was dropped (for the caller to log loudly)."""
    keep: list[PendingNotification] = []
    dropped: list[PendingNotification] = []
    for notification in ledger.outbox:
        (dropped if now - notification.created > max_age else keep).append(notification)
    if not dropped:
        return ledger, []
    return replace(ledger, outbox=tuple(keep)), dropped


def drop_channels_except(ledger: Ledger, channels: Sequence[str]) -> Ledger:
    """Forget pending deliveries to channels no longer configured (they would wait forever)."""
    keep = set(channels)
    outbox = []
    for notification in ledger.outbox:
        deliveries = tuple(d for d in notification.deliveries if d.channel in keep)
        if any(d.pending for d in deliveries):
            outbox.append(replace(notification, deliveries=deliveries))
    return replace(ledger, outbox=tuple(outbox))


def _update_delivery(ledger: Ledger, notification_id: str, channel: str, change: Any) -> Ledger:
    outbox = []
    for notification in ledger.outbox:
        if notification.id == notification_id:
            deliveries = tuple(
                change(d) if d.channel == channel and d.pending else d
                for d in notification.deliveries
            )
            notification = replace(notification, deliveries=deliveries)
            if not notification.channels:
                continue
        outbox.append(notification)
    return replace(ledger, outbox=tuple(outbox))


# --- helpers -----------------------------------------------------------------------------------


def _glob(value: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("ledger times must be timezone-aware")
    return value.astimezone(UTC)


def _iso(value: datetime | None) -> str | None:
    return _utc(value).isoformat() if value is not None else None


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO time, got {type(value).__name__}")
    return _utc(datetime.fromisoformat(value))


def _opt_time(value: Any) -> datetime | None:
    return None if value is None else _time(value)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
