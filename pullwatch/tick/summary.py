"""Report stage: what one tick did, counted by every stage and logged as one line at the end."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pullwatch.tick.deliver import ChannelReport


@dataclass
class TickSummary:
    """What one tick did (also logged as one line)."""

    groups: int = 0
    rows_matched: int = 0
    revisions: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    messages_sent: int = 0  # HTTP posts that succeeded (a digest counts once)
    delivered: int = 0  # (notification, channel) pairs delivered (printed, in a dry run)
    failed: int = 0  # (notification, channel) pairs that failed this tick (retryable)
    refused: int = 0  # (notification, channel) pairs refused for good this tick (backing off)
    errors: int = 0  # of those: rendering or sending raised something else than a refusal
    dead_lettered: int = 0  # notifications moved to the dead letters this tick
    digests: int = 0
    pending_left: int = 0  # notifications still owed to some channel
    held: int = 0  # (notification, channel) pairs owed but not due yet (backing off, muted)
    left: int = 0  # due but not tried this tick (channel down, deadline)
    partial: bool = False
    watermark_advanced: bool = False
    watermark: datetime | None = None
    saves: int = 0
    conflicts: int = 0
    dry_run: bool = False
    clock_warning: str | None = None
    stopped: dict[str, str] = field(default_factory=dict)  # channel -> why it stopped early
    workspaces_failed: list[str] = field(default_factory=list)  # workspace ids that failed
    deployments: int = 0  # refused deployments read from the Activity Log
    activity_skipped: int = 0  # Activity Log rows skipped as unreadable
    # environments whose quiet revisions stayed firing for lack of logs -> their newest row
    no_logs: dict[str, datetime | None] = field(default_factory=dict)
    # For the per-tick record (``pullwatch.health.tickrecord``): what each channel is (its
    # service), what happened on it, the revisions failing by cause after the tick, how long
    # the tick took and, for a tick that failed, the class of its error.
    services: dict[str, str] = field(default_factory=dict)  # channel -> teams, slack, ...
    by_channel: dict[str, Counter[str]] = field(default_factory=dict)  # channel -> counts
    failing_by_cause: Counter[str] = field(default_factory=Counter)
    self_alerts: int = 0  # pullwatch's own health notices queued this tick
    duration: float = 0.0  # seconds
    error: str | None = None  # the class of the error that failed the tick

    @property
    def suppressed(self) -> int:
        return self.decisions["silenced"] + self.decisions["debounced"]

    def add_channels(self, reports: Sequence[ChannelReport]) -> None:
        for report in reports:
            self.messages_sent += report.messages_sent
            self.digests += report.digests
            self.delivered += report.delivered
            self.failed += report.failed
            self.refused += report.refused
            self.errors += report.errors
            self.left += report.left
            if report.stopped:
                self.stopped[report.channel] = report.stopped
            counts = self.by_channel.setdefault(report.channel, Counter())
            counts.update(delivered=report.delivered, failed=report.failed, refused=report.refused)

    def line(self) -> str:
        kinds = ", ".join(f"{k}={n}" for k, n in sorted(self.decisions.items())) or "none"
        watermark = (
            f"advanced to {self.watermark.isoformat()}"
            if self.watermark_advanced and self.watermark
            else "unchanged"
        )
        extra = []
        if self.refused:
            extra.append(f"refused {self.refused}")
        if self.errors:
            extra.append(f"errors {self.errors}")
        if self.dead_lettered:
            extra.append(f"dead-lettered {self.dead_lettered}")
        if self.held:
            extra.append(f"held {self.held}")
        if self.left:
            extra.append(f"left for next tick {self.left}")
        tail = []
        if self.deployments or self.activity_skipped:
            tail.append(
                f"activity log: {self.deployments} refused deployments, "
                f"{self.activity_skipped} rows skipped as unreadable"
            )
        if self.workspaces_failed:
            tail.append(f"workspaces failed: {', '.join(self.workspaces_failed)}")
        for environment, last in sorted(self.no_logs.items()):
            since = last.strftime("%Y-%m-%dT%H:%M:%SZ") if last else "ever"
            tail.append(f"no logs from {environment} since {since}")
        return (
            f"tick{' (dry run)' if self.dry_run else ''}: {self.groups} groups "
            f"({self.rows_matched} rows) for {self.revisions} revisions; decisions: {kinds}; "
            f"{'printed' if self.dry_run else 'sent'} {self.messages_sent} messages "
            f"({self.digests} digests), delivered {self.delivered}, failed {self.failed}, "
            + "".join(f"{e}, " for e in extra)
            + f"suppressed {self.suppressed}, pending {self.pending_left}; "
            f"{self.saves} saves; watermark {watermark}"
            f"{' (partial result)' if self.partial else ''}" + "".join(f"; {t}" for t in tail)
        )
