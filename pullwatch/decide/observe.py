"""Turn a tick's ``RevisionGroup``s into one ``RevisionObservation`` per revision. Pure.

Each failure sample is classified; the revision's diagnosis is the most frequent specific cause
(a specific cause beats ``unknown``: a bare ``Persistent Image Pull Errors`` line borrows the
cause of a detailed line for the same revision). Success groups become ``last_success``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from classifiers import Cause, Diagnosis, classify
from pullwatch.fetch.records import RevisionGroup, Signal


@dataclass(frozen=True)
class RevisionObservation:
    """What one tick saw for one revision."""

    environment: str
    app: str
    revision: str
    diagnosis: Diagnosis | None  # None when the tick saw only success rows
    failure_count: int
    first_failure: datetime | None
    last_failure: datetime | None
    last_success: datetime | None
    samples: tuple[str, ...]  # failure samples, the decisive one first
    reasons: tuple[str, ...]
    resource_id: str = ""

    @property
    def key(self) -> str:
        return f"{self.environment}/{self.app}/{self.revision}"

    @property
    def failing(self) -> bool:
        return self.diagnosis is not None and self.failure_count > 0


def observe(groups: Iterable[RevisionGroup]) -> list[RevisionObservation]:
    """One observation per revision key, sorted by key."""
    by_key: dict[str, list[RevisionGroup]] = {}
    for group in groups:
        by_key.setdefault(group.key, []).append(group)
    return [_observe_revision(key_groups) for _, key_groups in sorted(by_key.items())]


def _observe_revision(groups: list[RevisionGroup]) -> RevisionObservation:
    first = groups[0]
    failures = [g for g in groups if g.signal is Signal.FAILURE]
    successes = [g for g in groups if g.signal is Signal.SUCCESS]
    diagnosis, decisive = _diagnose(failures)
    samples: list[str] = [decisive] if decisive else []
    for group in failures:
        samples.extend(s for s in group.samples if s not in samples)
    return RevisionObservation(
        environment=first.environment,
        app=first.app,
        revision=first.revision,
        diagnosis=diagnosis,
        failure_count=sum(g.count for g in failures),
        first_failure=min((g.first_seen for g in failures), default=None),
        last_failure=max((g.last_seen for g in failures), default=None),
        last_success=max((g.last_seen for g in successes), default=None),
        samples=tuple(samples),
        reasons=tuple(sorted({g.reason for g in failures if g.reason})),
        resource_id=next((g.resource_id for g in groups if g.resource_id), ""),
    )


def _diagnose(failures: list[RevisionGroup]) -> tuple[Diagnosis | None, str]:
    """The best diagnosis among all samples: specific over unknown, then by row count."""
    best: tuple[int, int, Diagnosis, str] | None = None
    for group in failures:
        candidates = group.samples or ("",)
        for sample in candidates:
            diagnosis = classify(sample, group.reason)
            score = (0 if diagnosis.cause is Cause.UNKNOWN else 1, group.count)
            if best is None or score > best[:2]:
                best = (*score, diagnosis, sample)
    if best is None:
        return None, ""
    return best[2], best[3]
