"""Test doubles for the pipeline: real (small) implementations of its seams, not mocks."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from notifiers.alert import Alert, Link
from notifiers.base import DigestPage
from pullwatch.errors import LedgerConflict, LedgerError, QueryError
from pullwatch.fetch.records import (
    ANY_WORKSPACE,
    EnvironmentActivity,
    FetchResult,
    RevisionGroup,
    RowRef,
    Signal,
    WorkspaceOutcome,
)
from pullwatch.ledger import Ledger

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
NOT_FOUND = (
    'Failed to pull image "contoso.azurecr.io/{app}:1": rpc error: code = NotFound desc = failed '
    'to pull and unpack image "contoso.azurecr.io/{app}:1": failed to resolve reference '
    '"contoso.azurecr.io/{app}:1": contoso.azurecr.io/{app}:1: not found'
)


def failure(
    app: str, *, minutes: int = 5, count: int = 3, message: str = NOT_FOUND
) -> RevisionGroup:
    """``count`` failed pull attempts of ``app`` from T0 to ``minutes`` later."""
    step = timedelta(minutes=minutes) / (count - 1) if count > 1 else timedelta(0)
    return RevisionGroup(
        environment="cae-prod",
        app=app,
        revision=f"{app}--0000001",
        signal=Signal.FAILURE,
        reason="Failed",
        count=count,
        first_seen=T0,
        last_seen=T0 + timedelta(minutes=minutes),
        last_ingested=T0 + timedelta(minutes=minutes + 3),
        text=message.format(app=app),
        rows=tuple(RowRef(T0 + n * step, f"{app}--0000001-5d8f9-x{n}") for n in range(count)),
    )


def success(app: str, *, at: datetime) -> RevisionGroup:
    return RevisionGroup(
        environment="cae-prod",
        app=app,
        revision=f"{app}--0000001",
        signal=Signal.SUCCESS,
        reason="PulledImage",
        count=1,
        first_seen=at,
        last_seen=at,
        last_ingested=at + timedelta(minutes=3),
        text=f"Successfully pulled image 'contoso.azurecr.io/{app}:1'",
    )


@dataclass
class ListSource:
    """Returns the groups it is given; records the watermarks it was asked with. Unless
    ``quiet_logs``, the environment "cae-prod" logged rows until the tick's ``now`` (its logs
    flow, so quiet revisions may resolve)."""

    groups: list[RevisionGroup]
    partial: bool = False
    fail: bool = False
    asked: list[datetime | None] = field(default_factory=list)
    quiet_logs: bool = False
    workspace: str = "ws-1"

    def fetch(
        self, *, watermarks: Mapping[str, datetime] | None = None, now: datetime
    ) -> FetchResult:
        marks = watermarks or {}
        self.asked.append(marks.get(self.workspace, marks.get(ANY_WORKSPACE)))
        if self.fail:
            raise QueryError("workspace 6b1f...: HTTP 403 (Forbidden)")
        ingested = [g.last_ingested for g in self.groups if g.last_ingested]
        activity = (
            ()
            if self.quiet_logs
            else (
                EnvironmentActivity(
                    "cae-prod", "ContainerAppSystemLogs", 1, now, now, self.workspace
                ),
            )
        )
        return FetchResult(
            groups=tuple(self.groups),
            workspaces=(
                WorkspaceOutcome(
                    self.workspace, max_ingested=max(ingested, default=None), partial=self.partial
                ),
            ),
            activity=activity,
            rows_matched=sum(g.count for g in self.groups),
        )


@dataclass
class MemoryStore:
    """A ledger store in memory with versions; ``before_save`` can simulate another writer."""

    ledger: Ledger = field(default_factory=Ledger)
    version: int = 0
    saves: int = 0
    before_save: Callable[[MemoryStore], None] | None = None

    def load(self) -> tuple[Ledger, str | None]:
        return self.ledger, str(self.version) if self.version else None

    def save(self, ledger: Ledger, version: str | None) -> str:
        hook, self.before_save = self.before_save, None
        if hook is not None:
            hook(self)
        current = str(self.version) if self.version else None
        if version != current:
            raise LedgerConflict(f"ledger changed (expected {version}, found {current})")
        self.ledger, self.version = ledger, self.version + 1
        self.saves += 1
        return str(self.version)


class BrokenStore(MemoryStore):
    """Every save from the ``fail_from``-th one on fails as a full disk would (``LedgerError``)."""

    def __init__(self, fail_from: int = 1) -> None:
        super().__init__()
        self.fail_from = fail_from
        self.attempted = 0

    def save(self, ledger: Ledger, version: str | None) -> str:
        self.attempted += 1
        if self.fail_from and self.attempted >= self.fail_from:
            raise LedgerError("cannot write ledger file /x/ledger.json: No space left on device")
        return super().save(ledger, version)


@dataclass
class RecordingNotifier:
    """A chat channel that records what it accepted and fails on demand.

    ``failures`` are raised first, in order (None: that send succeeds); ``refuse_apps`` always fail with their error;
    ``broken_apps`` cannot be rendered (KeyError);
    ``delay`` seconds pass in each send; ``on_send`` sees each payload before it is accepted."""

    channel: str
    service: str = "test"
    failures: list[BaseException | None] = field(default_factory=list)
    accepted: list[list[Alert]] = field(default_factory=list)  # one list per message
    attempts: int = 0
    broken_apps: set[str] = field(default_factory=set)
    delay: float = 0.0
    on_send: Callable[[list[Alert]], None] | None = None
    deadlines: list[float | None] = field(default_factory=list)
    refuse_apps: dict[str, BaseException] = field(default_factory=dict)
    page_size: int = 0  # a digest is split into pages of this many alerts (0: one page)
    unpaged_apps: set[str] = field(default_factory=set)  # a digest's pages leave these out

    def render_digest_pages(
        self, alerts: Sequence[Alert], *, links: Sequence[Link] = (), see_all: str | None = None
    ) -> list[DigestPage]:
        shown = [i for i, alert in enumerate(alerts) if alert.app not in self.unpaged_apps]
        size = self.page_size or len(shown) or 1
        pages = [shown[start : start + size] for start in range(0, len(shown), size)]
        return [
            DigestPage(self.render_digest([alerts[i] for i in page]), tuple(page)) for page in pages
        ]

    def render(self, alert: Alert) -> dict[str, Any]:
        if alert.app in self.broken_apps:
            raise KeyError("a field this renderer does not know")
        return {"alerts": [alert]}

    def render_digest(self, alerts: Sequence[Alert]) -> dict[str, Any]:
        for alert in alerts:
            self.render(alert)
        return {"alerts": list(alerts), "digest": True}

    def send(self, payload: dict[str, Any], *, deadline: float | None = None) -> None:
        self.attempts += 1
        self.deadlines.append(deadline)
        if self.delay:
            time.sleep(self.delay)
        if self.failures:
            failure = self.failures.pop(0)
            if failure is not None:  # None: this send succeeds
                raise failure
        for alert in payload["alerts"]:
            if alert.app in self.refuse_apps:
                raise self.refuse_apps[alert.app]
        if self.on_send is not None:
            self.on_send(list(payload["alerts"]))
        self.accepted.append(list(payload["alerts"]))

    @property
    def alerts(self) -> list[Alert]:
        return [alert for message in self.accepted for alert in message]

    def kinds(self) -> list[tuple[str, str]]:
        return [(a.app, a.kind.value) for a in self.alerts]
