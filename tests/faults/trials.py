"""The fault trials, shared by tests/faults and benchmarks/faults_bench.py: rounds of concurrent
runs on one ledger, and crash trials (runs killed, then a clean run). Each returns what it saw;
the tests assert on it, the benchmark counts it.

A blob lease left by a killed run expires by itself after ``LEASE_SECONDS`` (15 s; tested in
tests/ledger/test_blob_store.py). To keep the trials fast ``BlobLedger.after_crash`` breaks such
a lease once the killed process is gone, which leaves the blob as the expiry would.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from azure.storage.blob import BlobLeaseClient, ContainerClient

from pullwatch.ledger import Ledger, pending
from pullwatch.ledger.stores import BlobStore, FileStore
from tests.fakes.azurite import AzuriteBlob
from tests.fakes.webhooks import Received
from tests.faults.harness import Channels, Forker, Result, Run, apps, revision, write_export

NOW = "2026-11-29T08:10:00Z"
START = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
APPS = apps(4)  # 4 alerts x 2 channels: 8 posts in a clean tick
T = TypeVar("T")
R = TypeVar("R")


# --- ledgers -----------------------------------------------------------------------------------


class LedgerUnderTest:
    """One fresh ledger per trial, and what a test needs to know of it."""

    kind = ""

    def args(self) -> list[str]:
        return []

    def env(self) -> dict[str, str]:
        return {}

    def after_crash(self) -> None:
        """What time would do after a crash (the blob: its lease expires)."""

    def load(self) -> Ledger:
        raise NotImplementedError

    def leftovers(self) -> list[str]:
        """Anything besides the ledger itself (temp files, other blobs, a lease still held)."""
        raise NotImplementedError


class FileLedger(LedgerUnderTest):
    kind = "file"

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True)
        self.path = directory / "ledger.json"

    def args(self) -> list[str]:
        return ["--ledger", str(self.path)]

    def load(self) -> Ledger:
        return FileStore(self.path).load()[0]

    def leftovers(self) -> list[str]:
        keep = {self.path.name, self.path.name + ".lock"}
        return sorted(p.name for p in self.path.parent.iterdir() if p.name not in keep)


class BlobLedger(LedgerUnderTest):
    kind = "blob"

    def __init__(self, azurite: AzuriteBlob, prefix: str = "trial") -> None:
        self.connection = azurite.connection_string
        self.container = azurite.new_container(prefix)
        self.client = ContainerClient.from_connection_string(self.connection, self.container)

    def env(self) -> dict[str, str]:
        return {
            "PULLWATCH_LEDGER_CONNECTION_STRING": self.connection,
            "PULLWATCH_LEDGER_CONTAINER": self.container,
        }

    def after_crash(self) -> None:
        blob = self.client.get_blob_client("ledger.json")
        if blob.exists() and blob.get_blob_properties().lease.state == "leased":
            BlobLeaseClient(blob).break_lease(lease_break_period=0)

    def load(self) -> Ledger:
        return BlobStore(self.client, "ledger.json").load()[0]

    def leftovers(self) -> list[str]:
        found = []
        for blob in self.client.list_blobs():
            if blob.name != "ledger.json":
                found.append(blob.name)
            elif blob.lease.state != "available":
                found.append(f"ledger.json leased ({blob.lease.state})")
        return found


def ledger_maker(kind: str, azurite: AzuriteBlob, directory: Path) -> Callable[[], LedgerUnderTest]:
    counter = iter(range(1_000_000))

    def make() -> LedgerUnderTest:
        if kind == "blob":
            return BlobLedger(azurite)
        return FileLedger(directory / f"ledger-{next(counter)}")

    return make


# --- crash trials ------------------------------------------------------------------------------


@dataclass
class CrashOutcome:
    """What one crash trial saw (per channel: the alerts that arrived and how often)."""

    where: str
    crashes: int  # runs that really died of the signal (a kill that came too late is none)
    received: dict[str, Counter[tuple[str, str]]]
    failed_runs: list[Result] = field(default_factory=list)  # neither killed nor clean
    still_owed: int = 0
    leftovers: list[str] = field(default_factory=list)

    @property
    def expected(self) -> set[tuple[str, str]]:
        return {("firing", revision(app)) for app in APPS}

    def lost(self, channel: str) -> set[tuple[str, str]]:
        return self.expected - set(self.received[channel])

    def repeats(self, channel: str) -> int:
        got = self.received[channel]
        return sum(got.values()) - len(set(got))

    def problems(self) -> list[str]:
        found = [f"run exited {r.code}: {r.stderr[-500:]}" for r in self.failed_runs]
        for channel, got in self.received.items():
            if set(got) - self.expected:
                found.append(f"{channel}: unexpected {sorted(set(got) - self.expected)}")
            if self.lost(channel):
                found.append(f"{channel}: lost {sorted(self.lost(channel))}")
            if self.repeats(channel) > self.crashes:
                found.append(
                    f"{channel}: {self.repeats(channel)} copies too many after "
                    f"{self.crashes} crash(es)"
                )
        if self.still_owed:
            found.append(f"{self.still_owed} notification(s) still owed after the clean tick")
        if self.leftovers:
            found.append(f"left behind: {self.leftovers}")
        return [f"{self.where}: {problem}" for problem in found]


def crash_trial(
    forker: Forker,
    ledger: LedgerUnderTest,
    export: Path,
    kill_moments: Sequence[float | int],
    where: str,
) -> CrashOutcome:
    """Crash a run once per kill moment (a float: seconds after its start; an int n: right
    after the n-th post of that run arrived), then run a clean tick; report what arrived."""
    channels = Channels.start()
    try:
        argv = ["run", "--from-file", str(export), "--now", NOW, *ledger.args()]
        env = {**channels.env(), **ledger.env()}
        crashes = 0
        failed: list[Result] = []
        for moment in kill_moments:
            run = forker.start(argv, env)
            if isinstance(moment, int):
                nth = len(channels.server.received) + moment

                def kill_at(number: int, _: Received, run: Run = run, nth: int = nth) -> None:
                    if number == nth:
                        run.kill()

                channels.server.on_post = kill_at
            else:
                time.sleep(max(0.0, run.started + moment - time.monotonic()))
                run.kill()
            result = run.wait()
            channels.server.on_post = None
            if result.code == -9:
                crashes += 1
            elif result.code != 0 or result.traceback:
                failed.append(result)
            ledger.after_crash()
        clean = forker.run(argv, env)
        if clean.code != 0 or clean.traceback:
            failed.append(clean)
        return CrashOutcome(
            where,
            crashes,
            {"teams": channels.alerts(channels.teams), "slack": channels.alerts(channels.slack)},
            failed,
            len(pending(ledger.load())),
            ledger.leftovers(),
        )
    finally:
        channels.server.stop()


def clean_duration(forker: Forker, make: Callable[[], LedgerUnderTest], export: Path) -> float:
    """How long a clean run takes here, from its start to its exit (the longer of two: the
    first also creates the ledger's container)."""
    channels = Channels.start()
    try:
        spans = []
        for _ in range(2):
            ledger = make()
            run = forker.start(
                ["run", "--from-file", str(export), "--now", NOW, *ledger.args()],
                {**channels.env(), **ledger.env()},
            )
            result = run.wait()
            assert result.code == 0, result.stderr
            spans.append(time.monotonic() - run.started)
        return max(spans)
    finally:
        channels.server.stop()


# --- concurrent runs ---------------------------------------------------------------------------


@dataclass
class RoundOutcome:
    """One round of concurrent runs on one ledger."""

    where: str
    failing: list[str]
    results: list[Result]
    received: dict[str, Counter[tuple[str, str]]]

    @property
    def gave_up(self) -> list[Result]:
        return [r for r in self.results if r.code != 0]

    def duplicates(self) -> int:
        return sum(n - 1 for got in self.received.values() for n in got.values() if n > 1)

    def lost(self) -> int:
        expected = {("firing", revision(app)) for app in self.failing}
        return sum(len(expected - set(got)) for got in self.received.values())


def concurrent_round(
    forker: Forker,
    ledger: LedgerUnderTest,
    failing: list[str],
    directory: Path,
    starts: Sequence[tuple[float, float | None]],
    where: str,
) -> RoundOutcome:
    """Start one run per ``(delay, lock_wait)`` (each ``delay`` after the previous start;
    ``lock_wait`` None: the default 60 s) on ``ledger``, all reading the same export."""
    channels = Channels.start()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        export = write_export(directory / f"export-{time.monotonic_ns()}.json", failing, START)
        argv = ["run", "--from-file", str(export), "--now", NOW, *ledger.args()]
        env = {**channels.env(), **ledger.env()}
        runs = []
        for delay, lock_wait in starts:
            time.sleep(delay)
            runs.append(forker.start(argv, env, lock_wait=lock_wait))
        results = [run.wait() for run in runs]
        received = {
            "teams": channels.alerts(channels.teams),
            "slack": channels.alerts(channels.slack),
        }
        return RoundOutcome(where, failing, results, received)
    finally:
        channels.server.stop()


def in_parallel(work: Callable[[T], R], jobs: Sequence[T], workers: int = 3) -> list[R]:
    """``work`` on every job, ``workers`` at a time (the runs mostly wait on sockets)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(work, jobs))
