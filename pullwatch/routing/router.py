"""The router: which channels one decided notification is queued for now, and how long quiet
hours hold each. Pure (the clock is passed in).

``decide`` settles what a revision needs (firing, cause changed, reminder, resolved); the router
says where it goes, with the revision's ``ChannelRecord``s (what each channel was told):

- firing and cause changed: every channel the routes give now;
- reminder: only the channels whose own repeat interval (the route's, else the global one) has
  elapsed since they were last told, never a channel that takes no reminders (PagerDuty keeps
  its incident open), never a channel that was not told before (channels added to a route
  later do not get older incidents), but again a channel that a channel silence kept out;
- resolved: only the channels that were told the revision was failing.

Channel silences (``silence add --channel``) leave their channel out and are recorded; a
route's quiet hours hold the notification in the outbox until they end (``held``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from notifiers.alert import Alert, AlertKind
from pullwatch.durations import format_duration
from pullwatch.ledger.routed import ChannelRecord
from pullwatch.routing.routes import RoutingTable, Subject, Target


@dataclass(frozen=True)
class Routed:
    """Where one notification goes, what keeps it from some channels, and the new records."""

    targets: tuple[Target, ...]  # the notification is queued for these channels
    held: Mapping[str, datetime]  # channel → end of the quiet hours holding it (UTC)
    silenced: Mapping[str, str]  # channel → id of the channel silence that left it out
    records: tuple[ChannelRecord, ...]  # the entry's records once this is queued

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(t.channel for t in self.targets)

    def describe(self) -> str:
        """``orders-teams via routes[1], pagerduty-prod via routes[0] held until 07:00Z``."""
        parts = []
        for target in self.targets:
            text = f"{target.channel} via {target.via}"
            if target.channel in self.held:
                text += f" held until {_t(self.held[target.channel])}"
            parts.append(text)
        parts += [f"{c} silenced by {s}" for c, s in self.silenced.items()]
        return ", ".join(parts) or "no channel"


@dataclass(frozen=True)
class Router:
    """The routes applied to the channels configured now."""

    table: RoutingTable = field(default_factory=RoutingTable)
    channels: tuple[str, ...] = ()
    repeat_interval: timedelta = timedelta(hours=4)  # the global PULLWATCH_REPEAT_INTERVAL
    reminderless: frozenset[str] = frozenset()  # channels that take no reminders (PagerDuty)

    def targets(self, subject: Subject) -> tuple[Target, ...]:
        return self.table.targets(subject, self.channels)

    def records_of(
        self,
        subject: Subject,
        records: Sequence[ChannelRecord],
        notified_cause: str | None,
        notified_at: datetime | None,
    ) -> tuple[ChannelRecord, ...]:
        """The entry's records; an entry notified before routing existed (no records) counts
        as having told every channel it is routed to now."""
        if records or notified_cause is None:
            return tuple(records)
        return tuple(
            ChannelRecord(t.channel, t.route, notified_cause, notified_at)
            for t in self.targets(subject)
        )

    def reminders_due(
        self, subject: Subject, records: Sequence[ChannelRecord], now: datetime
    ) -> tuple[tuple[Target, timedelta], ...]:
        """The channels a reminder is due for now, each with its repeat interval."""
        by_channel = {r.channel: r for r in records}
        due = []
        for target in self.targets(subject):
            record = by_channel.get(target.channel)
            interval = target.repeat(self.repeat_interval)
            if target.channel in self.reminderless or record is None or interval <= timedelta(0):
                continue
            if record.silenced_by is not None or record.at is None:
                due.append((target, interval))  # kept out by a channel silence: due once it ends
            elif now - record.at >= interval:
                due.append((target, interval))
        return tuple(due)

    def route(
        self,
        alert: Alert,
        records: Sequence[ChannelRecord],
        now: datetime,
        *,
        silences: Mapping[str, str] | None = None,
        only: Sequence[str] | None = None,
    ) -> Routed:
        """Where ``alert`` goes now; ``only``: just these channels (a reminder's due ones);
        ``silences``: channel → active channel silence id for this revision."""
        silences = silences or {}
        subject = Subject.of(alert)
        current = {t.channel: t for t in self.targets(subject)}
        by_channel = {r.channel: r for r in records}
        if alert.kind is AlertKind.RESOLVED:
            wanted = [
                current.get(r.channel) or Target(r.channel, r.route)
                for r in records
                if r.told and r.channel in self.channels
            ]
        else:
            wanted = list(current.values())
            if only is not None:
                wanted = [t for t in wanted if t.channel in only]
            if alert.kind is AlertKind.REMINDER:
                wanted = [t for t in wanted if t.channel not in self.reminderless]
        targets, held, silenced = [], {}, {}
        updated = dict(by_channel)
        for target in wanted:
            previous = by_channel.get(target.channel)
            if target.channel in silences:
                silenced[target.channel] = silences[target.channel]
                base = previous or ChannelRecord(target.channel, target.route)
                updated[target.channel] = replace(base, silenced_by=silences[target.channel])
                continue
            targets.append(target)
            until = target.held_until(now)
            if until is not None:
                held[target.channel] = until
            if alert.kind is not AlertKind.RESOLVED:
                updated[target.channel] = ChannelRecord(
                    target.channel, target.route, alert.cause, now.astimezone(UTC)
                )
            elif previous is not None:
                updated[target.channel] = replace(previous, silenced_by=None)
        return Routed(tuple(targets), held, silenced, tuple(updated.values()))


def reminder_reason(
    due: Sequence[tuple[Target, timedelta]], records: Sequence[ChannelRecord]
) -> str:
    """``repeat interval 1h elapsed (last notified at ...) for orders-teams``; channels with the
    same interval and last time share one phrase."""
    by_channel = {r.channel: r for r in records}
    groups: dict[str, list[str]] = {}
    for target, interval in due:
        record = by_channel.get(target.channel)
        if record is not None and record.silenced_by is not None:
            phrase = f"silence {record.silenced_by} no longer applies"
        else:
            last = _t(record.at) if record is not None and record.at else "never"
            phrase = (
                f"repeat interval {format_duration(interval)} elapsed (last notified at {last})"
            )
        groups.setdefault(phrase, []).append(target.channel)
    return "; ".join(f"{phrase} for {', '.join(channels)}" for phrase, channels in groups.items())


def _t(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
