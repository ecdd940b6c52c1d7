"""What a log source returns for one tick: per-revision groups of failure or success rows.

A source (Log Analytics or a file export) reduces raw rows to ``RevisionGroup``s, one per
(environment, app, revision, signal, reason), so a result's size follows the number of failing
revisions, not the number of log lines. ``FetchResult`` adds the ingestion watermark to advance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class Signal(StrEnum):
    FAILURE = "failure"  # an image pull failed
    SUCCESS = "success"  # an image was pulled or the container started


@dataclass(frozen=True)
class RevisionGroup:
    """Rows of one signal and reason for one revision, reduced."""

    environment: str
    app: str
    revision: str
    signal: Signal
    reason: str  # the Reason column ("" when absent)
    count: int  # rows matched (duplicates included)
    first_seen: datetime  # min TimeGenerated
    last_seen: datetime  # max TimeGenerated
    last_ingested: datetime | None  # max ingestion time (None for sources without it)
    # distinct log messages, each at most SAMPLE_CHARS chars, at most MAX_SAMPLES of them
    samples: tuple[str, ...]
    resource_id: str = ""  # _ResourceId when the table has it

    @property
    def key(self) -> str:
        return f"{self.environment}/{self.app}/{self.revision}"


SAMPLE_CHARS = 2000
MAX_SAMPLES = 10


@dataclass(frozen=True)
class FetchResult:
    """One tick's reading: the groups, the largest ingestion time seen, and whether it is whole."""

    groups: tuple[RevisionGroup, ...]
    max_ingested: datetime | None  # advance the watermark to this (when not partial)
    partial: bool = False  # True: some data is missing; keep the watermark
    rows_matched: int = 0  # raw rows behind the groups (sum of counts)
    warnings: tuple[str, ...] = ()


class FailureSource(Protocol):
    """Somewhere image-pull failures can be read from (Log Analytics, a file export)."""

    def fetch(self, *, watermark: datetime | None, now: datetime) -> FetchResult:
        """Groups for rows ingested after ``watermark`` (or within the lookback when None)."""
        ...
