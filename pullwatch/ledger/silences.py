"""Silences: matchers that mute notifications for matching revisions until they expire. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pullwatch.ledger.fields import glob_match, iso, opt_str, opt_time, parse_time, utc

if TYPE_CHECKING:
    from pullwatch.ledger.document import Ledger


@dataclass(frozen=True)
class Silence:
    """Mute notifications for matching revisions until ``expires``.

    ``app``, ``revision`` and ``environment`` are shell globs (``fnmatch``, case-insensitive);
    ``cause`` is an exact cause id or None for any cause; ``channel`` mutes one channel only
    (the others are still told), None every channel. ``job`` (a glob) makes it a silence of
    Container Apps jobs: it matches jobs of that name (and no app); a silence by app matches
    apps, and jobs only through a pattern that matches anything (``*``).
    """

    id: str
    app: str
    expires: datetime
    comment: str
    revision: str = "*"
    environment: str = "*"
    cause: str | None = None
    created: datetime | None = None
    channel: str | None = None
    job: str = ""

    def active(self, now: datetime) -> bool:
        """Active until (not at) ``expires``."""
        return now < self.expires

    def matches(self, environment: str, app: str, revision: str, cause: str, job: str = "") -> bool:
        if self.job:
            return (
                bool(job)
                and glob_match(job, self.job)
                and glob_match(environment, self.environment)
                and (self.cause is None or self.cause == cause)
            )
        return (
            glob_match(app, self.app)
            and glob_match(revision, self.revision)
            and glob_match(environment, self.environment)
            and (self.cause is None or self.cause == cause)
        )

    def describe(self) -> str:
        parts = [f"job={self.job}"] if self.job else [f"app={self.app}"]
        if self.revision != "*":
            parts.append(f"revision={self.revision}")
        if self.environment != "*":
            parts.append(f"environment={self.environment}")
        if self.cause:
            parts.append(f"cause={self.cause}")
        if self.channel:
            parts.append(f"channel={self.channel}")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "app": self.app,
            "revision": self.revision,
            "environment": self.environment,
            "cause": self.cause,
            "expires": iso(self.expires),
            "comment": self.comment,
            "created": iso(self.created),
            "channel": self.channel,
            "job": self.job,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Silence:
        return cls(
            id=str(data["id"]),
            app=str(data["app"]),
            revision=str(data.get("revision", "*")),
            environment=str(data.get("environment", "*")),
            cause=opt_str(data.get("cause")),
            expires=parse_time(data["expires"]),
            comment=str(data.get("comment", "")),
            created=opt_time(data.get("created")),
            channel=opt_str(data.get("channel")),
            job=str(data.get("job", "")),
        )


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
    channel: str | None = None,
    job: str = "",
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
        channel=channel or None,
        job=job,
        expires=utc(expires),
        comment=comment.strip(),
        created=utc(now),
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
    ledger: Ledger,
    now: datetime,
    environment: str,
    app: str,
    revision: str,
    cause: str,
    job: str = "",
) -> Silence | None:
    """The first active silence of every channel matching the revision and cause, if any."""
    for silence in ledger.silences:
        if (
            silence.channel is None
            and silence.active(now)
            and silence.matches(environment, app, revision, cause, job)
        ):
            return silence
    return None


def channel_silences(
    silences: tuple[Silence, ...],
    now: datetime,
    environment: str,
    app: str,
    revision: str,
    cause: str,
    job: str = "",
) -> dict[str, str]:
    """Channel → id of the first active one-channel silence matching the revision and cause."""
    found: dict[str, str] = {}
    for silence in silences:
        if (
            silence.channel is not None
            and silence.channel not in found
            and silence.active(now)
            and silence.matches(environment, app, revision, cause, job)
        ):
            found[silence.channel] = silence.id
    return found
