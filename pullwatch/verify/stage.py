"""The verify stage of a tick: check the configuration behind the alerts about to be sent and
put what was found into them. Never in the way: the alerts go out whatever happens here.

``Verifier.enrich(ledger, queued, now)`` runs between deciding and delivering. It takes the
notifications queued this tick that tell of a failure (firing, reminder, cause changed) with a
cause the configuration can explain (``findings.VERIFIED_CAUSES``), asks its ``SnapshotSource``
once for all of them (one Resource Graph query, within ``budget``), evaluates each one (pure),
and returns the ledger with each of those notifications' alerts carrying its findings and fix,
and each entry keeping the ``Verification``. Any failure (no rights, throttling, timeout,
malformed rows, even a bug) leaves the alerts as they were plus "could not check the
configuration: <reason>", with a WARNING log; nothing is sent twice because of it.

A revision is checked when an alert about it is about to be sent, so at most once per firing,
cause change or reminder; within one tick (a ledger conflict decides again) the result is
reused, so the tick queries at most once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from notifiers.alert import Alert, AlertKind
from notifiers.alert import Finding as AlertFinding
from pullwatch.errors import PullwatchError
from pullwatch.ledger import Entry, Ledger, PendingNotification
from pullwatch.verify.findings import VERIFIED_CAUSES, Target, Verification, evaluate
from pullwatch.verify.graph import ResourceGraphClient
from pullwatch.verify.query import build_query
from pullwatch.verify.snapshot import Snapshot, load_snapshot_file, snapshot_from_rows

log = logging.getLogger("pullwatch.verify")

_FAILING = frozenset({AlertKind.FIRING, AlertKind.REMINDER, AlertKind.CAUSE_CHANGED})
COULD_NOT_CHECK = "could not check the configuration"


class SnapshotSource(Protocol):
    """Where the configuration comes from (Resource Graph, or a file from ``az graph query``)."""

    def snapshot(
        self, apps: Sequence[str], environments: Sequence[str], deadline: float
    ) -> Snapshot: ...


@dataclass
class GraphSource:
    """Resource Graph through ``ResourceGraphClient``: one query per call."""

    client: ResourceGraphClient
    queries: int = 0

    def snapshot(
        self, apps: Sequence[str], environments: Sequence[str], deadline: float
    ) -> Snapshot:
        self.queries += 1
        rows = self.client.query(build_query(apps, environments), deadline=deadline)
        return snapshot_from_rows(rows)


@dataclass
class FileSource:
    """A snapshot file (``--resources FILE``), read once."""

    path: Path
    _snapshot: Snapshot | None = None

    def snapshot(
        self, apps: Sequence[str], environments: Sequence[str], deadline: float
    ) -> Snapshot:
        if self._snapshot is None:
            self._snapshot = load_snapshot_file(self.path)
        return self._snapshot


@dataclass
class Verifier:
    """The verify stage (see the module docstring)."""

    source: SnapshotSource
    budget: timedelta = timedelta(seconds=15)
    _done: dict[tuple[str, str, datetime], Verification] = field(default_factory=dict)

    def enrich(
        self, ledger: Ledger, queued: Sequence[PendingNotification], now: datetime
    ) -> Ledger:
        wanted = [n for n in queued if _wanted(n.alert) and n.key in ledger.entries]
        if not wanted:
            return ledger
        results = self._verify(
            [ledger.entries[n.key] for n in wanted], [n.alert for n in wanted], now
        )
        outbox = list(ledger.outbox)
        entries = dict(ledger.entries)
        for notification in wanted:
            verification = results[notification.key]
            alert = with_verification(notification.alert, verification)
            outbox = [replace(n, alert=alert) if n.id == notification.id else n for n in outbox]
            entries[notification.key] = replace(
                entries[notification.key], verification=verification.to_dict()
            )
        return replace(ledger, outbox=tuple(outbox), entries=entries)

    def _verify(
        self, entries: Sequence[Entry], alerts: Sequence[Alert], now: datetime
    ) -> Mapping[str, Verification]:
        targets = [target_of(entry, alert) for entry, alert in zip(entries, alerts, strict=True)]
        results: dict[str, Verification] = {}
        missing = []
        for target in targets:
            cached = self._done.get((target.key, target.cause, now))
            if cached is not None:
                results[target.key] = cached
            else:
                missing.append(target)
        if not missing:
            return results
        started = time.monotonic()
        try:
            snapshot = self.source.snapshot(
                sorted({t.app for t in missing}),
                sorted({t.environment for t in missing}),
                started + self.budget.total_seconds(),
            )
            for target in missing:
                results[target.key] = evaluate(target, snapshot, checked_at=now)
        except PullwatchError as error:
            results.update(self._failed(missing, str(error), now))
        except Exception as error:  # a bug here must never stop the alerts
            log.exception("configuration check failed unexpectedly")
            results.update(self._failed(missing, f"internal error ({type(error).__name__})", now))
        for target in missing:
            verification = results[target.key]
            self._done[(target.key, target.cause, now)] = verification
            if verification.error and not verification.findings:
                log.warning("%s for %s: %s", COULD_NOT_CHECK, target.key, verification.error)
        log.info(
            "checked the configuration of %d revision(s) in %.2fs",
            len(missing),
            time.monotonic() - started,
        )
        return results

    @staticmethod
    def _failed(targets: Sequence[Target], reason: str, now: datetime) -> dict[str, Verification]:
        return {t.key: Verification(t.cause, now, error=reason) for t in targets}


def _wanted(alert: Alert) -> bool:
    return alert.kind in _FAILING and alert.cause in VERIFIED_CAUSES


def target_of(entry: Entry, alert: Alert) -> Target:
    """The ``Target`` of an alert about to be sent (facts from its evidence)."""
    facts = dict(alert.facts)
    return Target(
        environment=alert.environment,
        app=alert.name,
        revision=alert.revision,
        subject=alert.key,
        cause=alert.cause,
        last_failure=entry.last_seen,
        image=alert.image,
        registry=facts.get("Registry"),
        client_ip=facts.get("Client IP"),
    )


def with_verification(alert: Alert, verification: Verification) -> Alert:
    """``alert`` leading with what the check found (or why it could not check)."""
    if verification.error and not verification.findings:
        return replace(
            alert,
            checked_at=verification.checked_at,
            check_error=f"{COULD_NOT_CHECK}: {verification.error}",
            findings=(),
            fix=None,
        )
    return replace(
        alert,
        checked_at=verification.checked_at,
        check_error=None,
        findings=tuple(AlertFinding(f.id.value, f.text) for f in verification.findings),
        fix=verification.fix,
    )
