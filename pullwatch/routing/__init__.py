"""Routing: which channels each notification goes to, and when (quiet hours). Pure.

- ``routes``: ``PULLWATCH_ROUTES`` parsed and validated into a ``RoutingTable``; ``targets``
  gives, for one notification, its channels with the route that chose each;
- ``mute``: recurring quiet-hour windows in a time zone, and when the current one ends.
"""

from pullwatch.routing.mute import MuteWindow, muted_until, parse_window
from pullwatch.routing.routes import (
    Match,
    Route,
    RouteError,
    RoutingTable,
    Subject,
    Target,
    parse_routes,
    parse_routes_json,
)

__all__ = [
    "Match",
    "MuteWindow",
    "Route",
    "RouteError",
    "RoutingTable",
    "Subject",
    "Target",
    "muted_until",
    "parse_routes",
    "parse_routes_json",
    "parse_window",
]
