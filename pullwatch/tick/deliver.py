"""Dispatch stage: post what each channel is owed, all channels at once, each within the deadline.

One worker thread per channel, so a slow or silent channel never holds up another. A worker
takes the channel's due notifications in the order they were created (more than
``digest_threshold`` firing, or resolved, ones go out as one digest: ``DigestPage``s, one
message each, and a notification counts as delivered only when the page that shows it was
accepted) and, for each message:

- stops when the deadline nears (no post starts later than ``Deadline.posts_end`` less a
  second), or when the journal cannot record any more;
- renders it; any exception while rendering or sending one notification marks just that one
  refused, with the error's class (never its text, never a URL), logged once, and the worker
  goes on with the rest;
- sends it with the time left (``send(payload, deadline=...)``), then hands the outcome to the
  journal: a delivery is saved before the channel's next post;
- after a *retryable* failure (5xx, 429, timeouts) stops: the service is down or slow, the rest
  waits for the next tick; after a *permanent* one (a 4xx) goes on with the next.

Network I/O happens only inside the notifiers; the ledger changes go through the journal.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from notifiers.alert import AlertKind
from notifiers.base import Notifier, digest_pages
from notifiers.errors import DeliveryError
from pullwatch.decide.alerts import AlertContext, storm_link
from pullwatch.ledger import Ledger, PendingNotification, due
from pullwatch.tick.record import Journal, Posted, Result

log = logging.getLogger("pullwatch.tick")

_FIRING_KINDS = frozenset({AlertKind.FIRING, AlertKind.REMINDER, AlertKind.CAUSE_CHANGED})
MIN_POST_SECONDS = 1.0  # a post is not started with less time than this before the deadline
MAX_SAVE_RESERVE = 30.0  # seconds kept after the last post for the final save
SEE_ALL = "python -m pullwatch ledger show --firing"  # a digest points to every firing revision
Message = tuple[dict[str, object], list[PendingNotification]]  # a payload and whom it shows


@dataclass(frozen=True)
class Deadline:
    """The tick's deadline on a monotonic clock, and the part of it kept for the final save."""

    end: float
    reserve: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def after(cls, budget: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(clock() + budget, min(MAX_SAVE_RESERVE, budget / 4), clock)

    @property
    def posts_end(self) -> float:
        """No post may still run after this (the rest of the budget is the final save's)."""
        return self.end - self.reserve

    def can_start_post(self) -> bool:
        return self.posts_end - self.clock() >= MIN_POST_SECONDS

    def left_for_posts(self) -> float:
        return max(0.0, self.posts_end - self.clock())


@dataclass
class ChannelReport:
    """What one channel's worker did this tick (merged into the tick summary)."""

    channel: str
    owed: int = 0  # notifications due on this channel at the start
    messages_sent: int = 0
    digests: int = 0
    delivered: int = 0
    failed: int = 0  # retryable failures (notification, channel)
    refused: int = 0  # permanent refusals, rendering errors included
    errors: int = 0  # of which: exceptions other than a delivery error (rendering, bugs)
    left: int = 0  # due but not tried (channel down, deadline, journal stopped)
    stopped: str = ""  # why the worker stopped early, if it did
    finished: bool = False
    first_error: str = ""
    notes: list[str] = field(default_factory=list)


def dispatch(
    ledger: Ledger,
    notifiers: Sequence[Notifier],
    journal: Journal,
    *,
    now: datetime,
    deadline: Deadline,
    digest_threshold: int,
    dry_run: bool = False,
    context: AlertContext | None = None,
) -> list[ChannelReport]:
    """Deliver every due notification, one worker per channel; wait for them until the
    deadline's post window ends (a worker stuck past it is left behind, its posts unrecorded)."""
    reports: list[ChannelReport] = []
    threads: list[threading.Thread] = []
    for notifier in notifiers:
        owed = due(ledger, notifier.channel, now, dry_run=dry_run)
        report = ChannelReport(notifier.channel, owed=len(owed))
        reports.append(report)
        if not owed:
            report.finished = True
            continue
        worker = _Worker(notifier, owed, journal, report, deadline, digest_threshold, context)
        thread = threading.Thread(
            target=worker.run, name=f"deliver-{notifier.channel}", daemon=True
        )
        threads.append(thread)
        thread.start()
    for thread in threads:
        thread.join(timeout=deadline.left_for_posts() + 1.0)
    journal.close()
    for report in reports:
        if not report.finished:
            report.stopped = report.stopped or "still posting at the deadline"
            log.warning(
                "channel %s was still posting at the tick's deadline; what it had not "
                "recorded is tried again next tick",
                report.channel,
            )
    return reports


class _Worker:
    """Delivers one channel's due notifications in order (runs in its own thread)."""

    def __init__(
        self,
        notifier: Notifier,
        owed: list[PendingNotification],
        journal: Journal,
        report: ChannelReport,
        deadline: Deadline,
        digest_threshold: int,
        context: AlertContext | None = None,
    ) -> None:
        self.notifier = notifier
        self.owed = owed
        self.journal = journal
        self.report = report
        self.deadline = deadline
        self.digest_threshold = digest_threshold
        self.context = context  # for a digest's link to every failing revision in the Logs blade

    @property
    def channel(self) -> str:
        return self.notifier.channel

    def run(self) -> None:
        try:
            self._run()
        except Exception as error:  # a bug here must not take the tick down
            self.report.stopped = f"internal error ({type(error).__name__})"
            log.error("channel %s: delivery stopped: %s", self.channel, type(error).__name__)
            log.debug("channel %s: delivery stopped", self.channel, exc_info=True)
        finally:
            self.report.finished = True

    def _run(self) -> None:
        digests = getattr(self.notifier, "sends_digests", True)  # PagerDuty: one event each
        threshold = self.digest_threshold if digests else len(self.owed)
        batches = list(batches_of(self.owed, threshold))
        for number, batch in enumerate(batches):
            messages = self._render(batch)
            for index, (payload, carried) in enumerate(messages):
                why = self._stop_reason()
                if why:
                    rest = [n for _, later in messages[index:] for n in later]
                    self._leave([rest, *batches[number + 1 :]], why)
                    return
                if self._send(payload, carried):
                    rest = [n for _, later in messages[index + 1 :] for n in later]
                    self._leave([rest, *batches[number + 1 :]], "channel down or slow")
                    return

    def _stop_reason(self) -> str:
        if self.journal.stopped:
            return "the ledger cannot record deliveries"
        if not self.deadline.can_start_post():
            return "tick deadline"
        return ""

    def _leave(self, rest: list[list[PendingNotification]], why: str) -> None:
        left = sum(len(batch) for batch in rest)
        self.report.left += left
        self.report.stopped = why
        if left and why == "tick deadline":
            log.warning(
                "channel %s: %d notification(s) left for the next tick (tick deadline near)",
                self.channel,
                left,
            )

    def _render(self, batch: list[PendingNotification]) -> list[Message]:
        """The messages for ``batch`` (a digest may need several), each with the notifications
        it shows; those that cannot be rendered are recorded as refused (a digest is rendered
        again without them)."""
        try:
            return self._messages(batch)
        except Exception as error:
            if len(batch) == 1:
                self._refuse_unrenderable(batch, error)
                return []
            digest_error = error
        good: list[PendingNotification] = []
        for notification in batch:
            try:
                self.notifier.render(notification.alert)
            except Exception as error:
                self._refuse_unrenderable([notification], error)
            else:
                good.append(notification)
        if not good:
            return []
        try:
            return self._messages(good)
        except Exception as error:
            digest_error = error
        self._refuse_unrenderable(good, digest_error)
        return []

    def _messages(self, batch: list[PendingNotification]) -> list[Message]:
        """One message, or the pages of a digest (``DigestPage.shown`` says whom each lists);
        a notification no page shows stays owed (left for the next tick)."""
        if len(batch) == 1:
            return [(self.notifier.render(batch[0].alert), batch)]
        alerts = [n.alert for n in batch]
        link = storm_link(alerts, self.context) if self.context is not None else None
        pages = digest_pages(self.notifier, alerts, links=(link,) if link else (), see_all=SEE_ALL)
        messages: list[Message] = [
            (page.payload, [batch[i] for i in page.shown]) for page in pages if page.shown
        ]
        unshown = len(batch) - sum(len(carried) for _, carried in messages)
        if unshown:
            self.report.left += unshown
            log.warning(
                "channel %s: the digest's pages left out %d notification(s); "
                "they are tried again next tick",
                self.channel,
                unshown,
            )
        return messages

    def _refuse_unrenderable(self, batch: list[PendingNotification], error: Exception) -> None:
        reason = f"rendering failed ({type(error).__name__})"
        for notification in batch:
            log.error(
                "channel %s: %s notification %s for %s could not be rendered (%s); "
                "it is tried again later",
                self.channel,
                notification.alert.kind.value,
                notification.id,
                notification.key,
                type(error).__name__,
            )
        log.debug("channel %s: rendering failed", self.channel, exc_info=error)
        self._refused(batch, reason, error=True)

    def _send(self, payload: dict[str, object], batch: list[PendingNotification]) -> bool:
        """Post one message; True when the channel should not be tried again this tick."""
        ids = tuple(n.id for n in batch)
        try:
            self.notifier.send(payload, deadline=self.deadline.posts_end)
        except DeliveryError as error:
            if error.retryable:
                self.report.failed += len(batch)
                self._note_error(str(error))
                log.warning(
                    "channel %s did not accept %d notification(s); will retry next tick: %s",
                    self.channel,
                    len(batch),
                    error,
                )
                self.journal.record(
                    Posted(self.channel, ids, Result.FAILED, str(error)), durable=False
                )
                return True
            log.warning(
                "channel %s refused %d notification(s) (permanent error; backing off): %s",
                self.channel,
                len(batch),
                error,
            )
            self._refused(batch, str(error))
            return False
        except Exception as error:  # a bug in a notifier: never the message, it may hold a URL
            log.error(
                "channel %s: sending %d notification(s) failed (%s); tried again later",
                self.channel,
                len(batch),
                type(error).__name__,
            )
            self._refused(batch, f"sending failed ({type(error).__name__})", error=True)
            return False
        self.report.messages_sent += 1
        self.report.digests += len(batch) > 1
        self.report.delivered += len(batch)
        self.journal.record(Posted(self.channel, ids, Result.DELIVERED), durable=True)
        return False

    def _refused(
        self, batch: list[PendingNotification], reason: str, *, error: bool = False
    ) -> None:
        self.report.refused += len(batch)
        self.report.errors += len(batch) if error else 0
        self._note_error(reason)
        self.journal.record(
            Posted(self.channel, tuple(n.id for n in batch), Result.REFUSED, reason),
            durable=False,
        )

    def _note_error(self, text: str) -> None:
        if not self.report.first_error:
            self.report.first_error = text


def batches_of(
    owed: list[PendingNotification], threshold: int
) -> Iterator[list[PendingNotification]]:
    """Single messages in creation order, or one digest per group (failing / resolved) when a
    group is larger than ``threshold``. Notices about pullwatch's own health always go alone,
    first."""
    notices = [n for n in owed if n.alert.about_pullwatch]
    if notices:
        yield from ([n] for n in notices)
        owed = [n for n in owed if not n.alert.about_pullwatch]
    failing = [n for n in owed if n.alert.kind in _FIRING_KINDS]
    resolved = [n for n in owed if n.alert.kind not in _FIRING_KINDS]
    if len(failing) <= threshold and len(resolved) <= threshold:
        yield from ([n] for n in owed)
        return
    for group in (failing, resolved):
        if len(group) > threshold:
            yield group
        else:
            yield from ([n] for n in group)
