"""Routes: which channels a notification goes to, first match wins (like Alertmanager). Pure.

``PULLWATCH_ROUTES`` holds a JSON list of routes, or an object ``{"routes": [...], "default":
[...]}``. Each route is::

    {"match": {"environment": "cae-prod-*", "app": ["orders-*", "payments"], "job": "...",
               "revision": "...", "cause": ["registry-unauthorized"], "transient": false},
     "channels": ["orders-teams", "pagerduty-prod"], "continue": false,
     "repeat_interval": "1h", "mute": [{"days": "mon-fri", "from": "19:00", "to": "08:00",
                                        "tz": "Europe/Berlin"}]}

Every ``match`` field is a shell glob (case-insensitive) or a list of globs, any of which may
match; ``cause`` globs must each name at least one cause id; ``transient`` is true or false; a
field left out matches anything, and ``{}`` matches everything. Routes are tried in order: the
first that matches takes the notification, unless it says ``"continue": true``, in which case
the next matching routes add their channels too. When no route matches, the default route
takes it: every channel, or the ``default`` list (``[]``: nobody). ``channels: []`` on a route
drops what it matches. A route's ``repeat_interval`` (``0``: never) replaces the global one for
its channels; ``mute`` windows (``pullwatch.routing.mute``) hold its notifications until they end.

``parse_routes`` validates everything at settings load and raises ``RouteError`` naming the
place (``routes[2].match.cause``) with a one-line reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

from classifiers import Cause
from notifiers.alert import Alert
from pullwatch.durations import parse_duration
from pullwatch.routing.mute import (
    MuteWindow,
    MuteWindowError,
    always_muted,
    muted_until,
    parse_window,
)

MATCH_FIELDS = ("environment", "app", "job", "revision", "cause", "transient")
ROUTE_FIELDS = ("match", "channels", "continue", "repeat_interval", "mute")
TOP_FIELDS = ("routes", "default")
CAUSE_IDS = tuple(cause.value for cause in Cause)
# Container Apps names are letters, digits and '-'; a glob adds * ? [ ] ! and we allow . and _.
_GLOB = re.compile(r"[A-Za-z0-9._*?\[\]!-]+")


class RouteError(ValueError):
    """A route is malformed; ``str()`` is ``<where>: <why>``, e.g. ``routes[2].channels: ...``."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where


@dataclass(frozen=True)
class Subject:
    """What routes match on: the notification's names, cause and whether the cause is transient."""

    environment: str
    app: str
    revision: str
    cause: str
    transient: bool
    job: str = ""

    @classmethod
    def of(cls, alert: Alert) -> Subject:
        """The subject of an alert; a job's name comes from ``alert.job``, ``extra["job"]`` or a
        key of the form ``environment/job/<job>``."""
        job = str(getattr(alert, "job", "") or alert.extra.get("job", "") or "")
        app = alert.app
        parts = alert.key.split("/")
        if not job and len(parts) == 3 and parts[1] == "job" and parts[2]:
            job, app = parts[2], ""
        return cls(
            environment=alert.environment,
            app=app,
            revision=alert.revision,
            cause=alert.cause,
            transient=alert.transient,
            job=job,
        )


@dataclass(frozen=True)
class Match:
    """A route's conditions; an empty tuple (or None) matches anything."""

    environment: tuple[str, ...] = ()
    app: tuple[str, ...] = ()
    job: tuple[str, ...] = ()
    revision: tuple[str, ...] = ()
    cause: tuple[str, ...] = ()
    transient: bool | None = None

    def matches(self, subject: Subject) -> bool:
        return (
            _any_glob(subject.environment, self.environment)
            and _any_glob(subject.app, self.app)
            and _any_glob(subject.job, self.job)
            and _any_glob(subject.revision, self.revision)
            and _any_glob(subject.cause, self.cause)
            and (self.transient is None or self.transient == subject.transient)
        )


@dataclass(frozen=True)
class Route:
    """One route: conditions, channels, and what applies to those channels."""

    index: int
    match: Match
    channels: tuple[str, ...]
    continue_matching: bool = False
    repeat_interval: timedelta | None = None  # None: the global PULLWATCH_REPEAT_INTERVAL
    mute: tuple[MuteWindow, ...] = ()


@dataclass(frozen=True)
class Target:
    """One channel a notification is routed to, and by which route."""

    channel: str
    route: int | None  # index in the routes; None: the default route
    repeat_interval: timedelta | None = None  # None: the global one
    mute: tuple[MuteWindow, ...] = field(default=(), compare=False)

    @property
    def via(self) -> str:
        """``routes[2]`` or ``default route`` (shown by ``ledger show`` and in logs)."""
        return f"routes[{self.route}]" if self.route is not None else "default route"

    def held_until(self, now: datetime) -> datetime | None:
        """When the route's quiet hours holding ``now`` end, or None when it may deliver now."""
        return muted_until(self.mute, now)

    def repeat(self, default: timedelta) -> timedelta:
        """The repeat interval for this channel: the route's own, else ``default``."""
        return self.repeat_interval if self.repeat_interval is not None else default


@dataclass(frozen=True)
class RoutingTable:
    """The ordered routes and the default route's channels (None: every channel)."""

    routes: tuple[Route, ...] = ()
    default: tuple[str, ...] | None = None

    def targets(self, subject: Subject, channels: Sequence[str]) -> tuple[Target, ...]:
        """The channels ``subject`` goes to, in route order, each once (its first route wins).

        ``channels`` are the channels configured now, in order: the default route's channels
        unless ``default`` is set, and a route's channel that is not among them is left out.
        """
        present = set(channels)
        found: dict[str, Target] = {}
        matched = False
        for route in self.routes:
            if not route.match.matches(subject):
                continue
            matched = True
            for channel in route.channels:
                if channel in present and channel not in found:
                    found[channel] = Target(channel, route.index, route.repeat_interval, route.mute)
            if not route.continue_matching:
                break
        if not matched:
            default = channels if self.default is None else self.default
            for channel in default:
                if channel in present and channel not in found:
                    found[channel] = Target(channel, None)
        return tuple(found.values())

    def channels_of(self, alert: Alert, channels: Sequence[str]) -> tuple[Target, ...]:
        """``targets`` for an alert."""
        return self.targets(Subject.of(alert), channels)


def parse_routes_json(text: str, channels: Collection[str]) -> RoutingTable:
    """Parse the JSON text of ``PULLWATCH_ROUTES``; ``RouteError`` on malformed JSON or routes."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise RouteError(
            "", f"is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    return parse_routes(data, channels)


def parse_routes(data: Any, channels: Collection[str]) -> RoutingTable:
    """Validate decoded routes against the configured channel names; ``RouteError`` names the place."""
    known = set(channels)
    default: tuple[str, ...] | None = None
    if isinstance(data, Mapping):
        for key in data:
            if key not in TOP_FIELDS:
                raise RouteError(str(key), f"unknown field (expected {', '.join(TOP_FIELDS)})")
        if "routes" not in data:
            raise RouteError("routes", "is required (a list of routes)")
        if "default" in data:
            default = _channels(data["default"], "default", known)
        data = data["routes"]
    if not isinstance(data, list):
        raise RouteError("routes", "must be a list of routes")
    routes = tuple(_route(item, index, known) for index, item in enumerate(data))
    return RoutingTable(routes, default)


def _route(data: Any, index: int, known: set[str]) -> Route:
    where = f"routes[{index}]"
    if not isinstance(data, Mapping):
        raise RouteError(where, 'must be an object like {"match": {...}, "channels": [...]}')
    for key in data:
        if key not in ROUTE_FIELDS:
            raise RouteError(
                f"{where}.{key}", f"unknown field (expected {', '.join(ROUTE_FIELDS)})"
            )
    if "channels" not in data:
        raise RouteError(f"{where}.channels", "is required (a list of channel names)")
    proceed = data.get("continue", False)
    if not isinstance(proceed, bool):
        raise RouteError(f"{where}.continue", "must be true or false")
    repeat = data.get("repeat_interval")
    interval = None
    if repeat is not None:
        if not isinstance(repeat, str):
            raise RouteError(f"{where}.repeat_interval", 'must be a duration such as "1h" or "0"')
        try:
            interval = parse_duration(repeat)
        except ValueError as error:
            raise RouteError(f"{where}.repeat_interval", str(error)) from None
    mute = _mute(data.get("mute", []), f"{where}.mute")
    return Route(
        index=index,
        match=_match(data.get("match", {}), f"{where}.match"),
        channels=_channels(data["channels"], f"{where}.channels", known),
        continue_matching=proceed,
        repeat_interval=interval,
        mute=mute,
    )


def _match(data: Any, where: str) -> Match:
    if not isinstance(data, Mapping):
        raise RouteError(where, 'must be an object like {"app": "orders-*"}')
    for key in data:
        if key not in MATCH_FIELDS:
            raise RouteError(
                f"{where}.{key}", f"unknown field (expected {', '.join(MATCH_FIELDS)})"
            )
    transient = data.get("transient")
    if transient is not None and not isinstance(transient, bool):
        raise RouteError(f"{where}.transient", "must be true or false")
    causes = _globs(data.get("cause"), f"{where}.cause")
    for pattern in causes:
        if not any(fnmatchcase(cause, pattern.lower()) for cause in CAUSE_IDS):
            raise RouteError(
                f"{where}.cause",
                f"unknown cause id {pattern!r} (one of {', '.join(CAUSE_IDS)}, or a glob of them)",
            )
    return Match(
        environment=_globs(data.get("environment"), f"{where}.environment"),
        app=_globs(data.get("app"), f"{where}.app"),
        job=_globs(data.get("job"), f"{where}.job"),
        revision=_globs(data.get("revision"), f"{where}.revision"),
        cause=causes,
        transient=transient,
    )


def _globs(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    if not items:
        raise RouteError(where, "is an empty list (leave the field out to match anything)")
    globs = []
    for item in items:
        if not isinstance(item, str):
            raise RouteError(where, 'must be a glob such as "orders-*" or a list of them')
        problem = glob_problem(item)
        if problem:
            raise RouteError(where, f"{problem}: {item[:60]!r}")
        globs.append(item.strip())
    return tuple(globs)


def glob_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a usable name glob, or None. Globs use ``*``, ``?`` and ``[...]``."""
    text = pattern.strip()
    if not text:
        return "is an empty glob"
    if not _GLOB.fullmatch(text):
        return "is not a glob of names (letters, digits, '-', '.', '_', with * ? [...])"
    depth = 0
    for char in text:
        if char == "[":
            if depth:
                return "has a '[' inside [...]"
            depth = 1
        elif char == "]" and depth:
            depth = 0
    if depth:
        return "has a '[' without its ']'"
    return None


def _channels(value: Any, where: str, known: set[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RouteError(where, 'must be a list of channel names such as ["orders-teams"]')
    names = tuple(dict.fromkeys(v.strip() for v in value))
    for name in names:
        if name not in known:
            configured = ", ".join(sorted(known)) or "none"
            raise RouteError(where, f"unknown channel {name[:64]!r} (configured: {configured})")
    return names


def _mute(value: Any, where: str) -> tuple[MuteWindow, ...]:
    if not isinstance(value, list):
        raise RouteError(where, "must be a list of windows")
    windows = []
    for number, item in enumerate(value):
        try:
            windows.append(parse_window(item))
        except MuteWindowError as error:
            place = f"{where}[{number}]" + (f".{error.field}" if error.field else "")
            raise RouteError(place, str(error)) from None
    if always_muted(windows):
        raise RouteError(
            where,
            'the windows leave no hour free: the route would never deliver (use "channels": [] to drop)',
        )
    return tuple(windows)


def _any_glob(value: str, patterns: tuple[str, ...]) -> bool:
    if not patterns:
        return True
    text = value.lower()
    return any(fnmatchcase(text, pattern.lower()) for pattern in patterns)
