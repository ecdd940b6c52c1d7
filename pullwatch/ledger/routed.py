"""What each channel was told about one revision, and which route sent it there. Pure.

A ledger entry keeps one ``ChannelRecord`` per channel its notifications were routed to: the
route (``routes[2]``, or the default route), the cause last queued to the channel and when, or
the channel silence that kept it out. ``ledger show`` prints them; reminders are timed per
channel from them (a route's own repeat interval), and a "resolved" goes only to channels that
were told the revision was failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pullwatch.ledger.fields import iso, opt_str, opt_time


@dataclass(frozen=True)
class ChannelRecord:
    """One channel's view of one revision's incident."""

    channel: str
    route: int | None  # index of the route that chose the channel; None: the default route
    cause: str | None = None  # the cause last queued to this channel; None: never told
    at: datetime | None = None  # when a firing, cause change or reminder was last queued to it
    silenced_by: str | None = None  # the channel silence that kept the last notification out

    @property
    def told(self) -> bool:
        """True once the channel was queued a firing (or cause change) for this incident."""
        return self.cause is not None

    @property
    def via(self) -> str:
        return f"routes[{self.route}]" if self.route is not None else "default route"

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "route": self.route,
            "cause": self.cause,
            "at": iso(self.at),
            "silenced_by": self.silenced_by,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChannelRecord:
        route = data.get("route")
        return cls(
            channel=str(data["channel"]),
            route=int(route) if route is not None else None,
            cause=opt_str(data.get("cause")),
            at=opt_time(data.get("at")),
            silenced_by=opt_str(data.get("silenced_by")),
        )
