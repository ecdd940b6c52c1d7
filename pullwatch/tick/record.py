"""Commit-intent and record stages: the only code that saves the ledger during a tick.

A ``Journal`` first saves the planned ledger, every owed notification in its outbox, before
anything is posted (``commit``): if that save fails nothing is posted and the tick fails with the
ledger's one-line error. Then each channel worker hands it one ``Posted`` outcome per message:
a delivery is saved before that channel's next post starts (``durable=True``; outcomes that
arrive while a save runs go into the next one, so saves stay fewer than posts), failures ride
along with the next save. ``finish`` saves whatever is left. A crash at any instant therefore
repeats at most the posts in flight: one per channel.

A save that conflicts (another writer saved since, so its document holds our earlier saves)
reloads the ledger and applies the outcomes not saved yet, matched by notification id
(``apply_outcomes``), then saves once more; a second conflict or any other save error stops the
workers (no post is started that could not be recorded) and is raised by ``finish``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pullwatch.errors import LedgerConflict, LedgerError
from pullwatch.ledger import Ledger, mark_delivered, mark_failed
from pullwatch.ledger.stores import LedgerStore, where

log = logging.getLogger("pullwatch.tick")


class Result(StrEnum):
    DELIVERED = "delivered"  # accepted (or printed, in a dry run)
    FAILED = "failed"  # may work later in this or the next tick (5xx, 429, timeouts)
    REFUSED = "refused"  # will not work by itself (4xx, a rendering error): back off


@dataclass(frozen=True)
class Posted:
    """What happened to one message (one notification, or a digest of several) on one channel."""

    channel: str
    ids: tuple[str, ...]
    result: Result
    error: str = ""


def apply_outcomes(
    ledger: Ledger,
    outcomes: Sequence[Posted],
    *,
    now: datetime,
    dry_run: bool,
    backoff_cap: timedelta,
) -> Ledger:
    """The ledger with each outcome recorded on its notifications, matched by id. Pure."""
    for posted in outcomes:
        if posted.result is Result.DELIVERED:
            ledger = mark_delivered(ledger, posted.ids, posted.channel, now=now, dry_run=dry_run)
        else:
            ledger = mark_failed(
                ledger,
                posted.ids,
                posted.channel,
                error=posted.error,
                now=now,
                permanent=posted.result is Result.REFUSED,
                backoff_cap=backoff_cap,
            )
    return ledger


class Journal:
    """Saves the tick's ledger: the intent first, then each delivery as it happens."""

    def __init__(
        self,
        store: LedgerStore,
        version: str | None,
        *,
        now: datetime,
        dry_run: bool,
        backoff_cap: timedelta,
    ) -> None:
        self._store = store
        self._version = version
        self._now = now
        self._dry_run = dry_run
        self._backoff_cap = backoff_cap
        self.ledger = Ledger.empty()
        self.saves = 0
        self.conflicts = 0
        self._queue: list[Posted] = []  # outcomes not saved yet
        self._queued = 0  # outcomes ever queued
        self._saved = 0  # outcomes ever saved
        self._state = threading.Lock()
        self._saving = threading.Lock()
        self._closed = False
        self._last_change: Callable[[Ledger], Ledger] | None = None  # set by ``finish``
        self.error: LedgerError | None = None

    @property
    def stopped(self) -> bool:
        """True once no further post may start: a save failed, or the tick is finishing."""
        return self._closed or self.error is not None

    def commit(self, planned: Ledger) -> None:
        """Save the planned ledger before any post. Raises ``LedgerConflict``/``LedgerError``."""
        self._version = self._store.save(planned, self._version)
        self.ledger = planned
        self.saves += 1

    def record(self, posted: Posted, *, durable: bool) -> bool:
        """Hand in one outcome; with ``durable`` return only once it is saved. False when the
        outcome could not be saved (the journal is stopped)."""
        with self._state:
            if self._closed:
                log.warning(
                    "channel %s: an outcome arrived after the tick's last save; not recorded",
                    posted.channel,
                )
                return False
            self._queue.append(posted)
            self._queued += 1
            ticket = self._queued
        if not durable:
            return True
        self._flush(ticket)
        return self.error is None

    def close(self) -> None:
        """No more outcomes are accepted (workers still running at the deadline are dropped)."""
        with self._state:
            self._closed = True

    def finish(self, change: Callable[[Ledger], Ledger] | None = None) -> Ledger:
        """Save what is left, with ``change`` applied last (the channels' health: saved even
        when no outcome is left, if it changes the ledger); raise the error that stopped the
        journal, if any."""
        self.close()
        self._last_change = change
        self._flush(self._queued, force=change is not None)
        if self.error is not None:
            raise self.error
        return self.ledger

    def _flush(self, ticket: int, *, force: bool = False) -> None:
        """Save the queued outcomes up to ``ticket``; ``force``: save even without one, when
        the last change alters the ledger."""
        with self._saving:
            if self.error is not None or (self._saved >= ticket and not force):
                return
            with self._state:
                batch, self._queue = self._queue, []
                upto = self._queued
            if not batch and (not force or self._apply(self.ledger, []) == self.ledger):
                self._saved = upto
                return
            try:
                self._save(batch)
            except Exception as error:
                self.error = (
                    error
                    if isinstance(error, LedgerError)
                    else LedgerError(
                        f"cannot save ledger {where(self._store)}: {type(error).__name__}"
                    )
                )
                log.error(
                    "cannot record %d outcome(s) in ledger %s (%s); no further post this tick",
                    len(batch),
                    where(self._store),
                    self.error,
                )
                return
            self._saved = upto

    def _save(self, batch: list[Posted]) -> None:
        changed = self._apply(self.ledger, batch)
        try:
            self._version = self._store.save(changed, self._version)
        except LedgerConflict:
            self.conflicts += 1
            log.warning(
                "ledger %s changed during the tick; reloading and recording this tick's "
                "deliveries again by notification id",
                where(self._store),
            )
            fresh, version = self._store.load()  # holds every save of ours (ETags saw to it)
            changed = self._apply(fresh, batch)
            self._version = self._store.save(changed, version)  # a second conflict stops
        self.ledger = changed
        self.saves += 1

    def _apply(self, ledger: Ledger, outcomes: Sequence[Posted]) -> Ledger:
        changed = apply_outcomes(
            ledger,
            outcomes,
            now=self._now,
            dry_run=self._dry_run,
            backoff_cap=self._backoff_cap,
        )
        return self._last_change(changed) if self._last_change is not None else changed
