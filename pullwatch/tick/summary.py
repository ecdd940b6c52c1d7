"""What one tick did: counts kept by every stage and logged as one line at the end (report stage)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class TickSummary:
    """What one tick did (also logged as one line)."""

    groups: int = 0
    rows_matched: int = 0
    revisions: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    messages_sent: int = 0  # HTTP posts that succeeded (a digest counts once)
    delivered: int = 0  # (notification, channel) pairs delivered
    failed: int = 0  # (notification, channel) pairs that failed this tick
    digests: int = 0
    pending_left: int = 0  # notifications still owed to some channel
    partial: bool = False
    watermark_advanced: bool = False
    watermark: datetime | None = None
    saves: int = 0
    conflicts: int = 0

    @property
    def suppressed(self) -> int:
        return self.decisions["silenced"] + self.decisions["debounced"]

    def line(self) -> str:
        kinds = ", ".join(f"{k}={n}" for k, n in sorted(self.decisions.items())) or "none"
        return (
            f"tick: {self.groups} groups ({self.rows_matched} rows) for {self.revisions} "
            f"revisions; decisions: {kinds}; sent {self.messages_sent} messages "
            f"({self.digests} digests), delivered {self.delivered}, failed {self.failed}, "
            f"suppressed {self.suppressed}, pending {self.pending_left}; watermark "
            f"{'advanced to ' + self.watermark.isoformat() if self.watermark_advanced and self.watermark else 'unchanged'}"
            f"{' (partial result)' if self.partial else ''}"
        )
