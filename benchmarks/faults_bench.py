"""Delivery guarantees under faults, measured with real parts: the figures in the README's
"Delivery guarantees".

Larger versions of the trials in tests/faults (same code, ``tests/faults/trials.py``): real
``pullwatch run`` processes (forked from a pre-imported parent), an Azurite blob ledger or a
local file, and local Teams (202) and Slack (200 ``ok``) servers.

- **concurrent runs**: ``--rounds`` rounds of 2-4 runs at once on one blob ledger (a third of
  them wait only 0.1 s for the lease): alerts lost, duplicates, runs that gave up.
- **crashes**: ``--trials`` runs per ledger killed with SIGKILL at random moments (1-3 kills
  before a clean run), plus a kill right after each post of a tick: alerts lost, extra copies
  per crash per channel (mean and worst), anything left behind.
- **slow channels**: a tick with two healthy channels, one that never answers and one that
  trickles its headers, against the same tick without the slow two (``--slow-ticks`` each):
  when the healthy channels had everything, and when the tick ended (budget 8 s).
- **storm**: one tick with 1,000 failing revisions (digest pages, two channels, blob ledger):
  messages and ledger saves.

Run: ``.venv/bin/python benchmarks/faults_bench.py [--rounds 100] [--trials 100] [--seed N]``
(about 5 minutes with the defaults on 2 cores; ``--quick`` for a smaller run).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.azurite import AzuriteBlob, start_azurite, stop_azurite  # noqa: E402
from tests.fakes.webhooks import HANG, Trickle  # noqa: E402
from tests.faults.harness import Channels, Forker, apps, write_export  # noqa: E402
from tests.faults.trials import (  # noqa: E402
    APPS,
    NOW,
    START,
    BlobLedger,
    CrashOutcome,
    clean_duration,
    concurrent_round,
    crash_trial,
    in_parallel,
    ledger_maker,
)

SLOW_BUDGET = 8.0


def concurrent(forker: Forker, azurite: AzuriteBlob, work: Path, rounds: int, seed: int) -> None:
    rng = random.Random(seed)
    jobs = []
    for number in range(rounds):
        starts = [
            (rng.uniform(0, 0.15), rng.choice([None, None, 0.1])) for _ in range(rng.randint(2, 4))
        ]
        jobs.append((apps(rng.randint(2, 5)), starts, f"round {number}"))
    started = time.monotonic()
    outcomes = in_parallel(
        lambda job: concurrent_round(
            forker, BlobLedger(azurite, "bench"), job[0], work, job[1], job[2]
        ),
        jobs,
        workers=2,
    )
    runs = sum(len(o.results) for o in outcomes)
    expected = sum(2 * len(o.failing) for o in outcomes)
    tracebacks = sum(r.traceback for o in outcomes for r in o.results)
    print(
        f"concurrent runs (seed {seed}): {rounds} rounds of 2-4 runs at once on one blob ledger "
        f"({runs} runs), {expected} (alert, channel) pairs expected: lost "
        f"{sum(o.lost() for o in outcomes)}, duplicates {sum(o.duplicates() for o in outcomes)}, "
        f"runs that gave up waiting for the lease {sum(len(o.gave_up) for o in outcomes)} "
        f"(one-line error, exit 2), tracebacks {tracebacks}  [{time.monotonic() - started:.0f} s]"
    )


def crashes(
    forker: Forker, azurite: AzuriteBlob, work: Path, kind: str, trials: int, seed: int
) -> None:
    make = ledger_maker(kind, azurite, work / f"crash-{kind}")
    export = write_export(work / f"crash-{kind}.json", APPS, START)
    span = clean_duration(forker, make, export)
    rng = random.Random(seed)
    jobs: list[tuple[object, list[float | int], str]] = []
    for number in range(trials):
        kills: list[float | int] = [
            rng.uniform(0, span) for _ in range(rng.choice([1, 1, 1, 2, 3]))
        ]
        jobs.append((make(), kills, f"random {number}"))
    for n in range(1, 2 * len(APPS) + 1):
        jobs.append((make(), [n], f"after post {n}"))
    started = time.monotonic()
    outcomes: list[CrashOutcome] = in_parallel(
        lambda job: crash_trial(forker, job[0], export, job[1], job[2]),  # type: ignore[arg-type]
        jobs,
    )
    killed = sum(o.crashes for o in outcomes)
    lost = sum(len(o.lost(c)) for o in outcomes for c in o.received)
    per_crash = [o.repeats(c) / o.crashes for o in outcomes if o.crashes for c in o.received]
    problems = [p for o in outcomes for p in o.problems()]
    print(
        f"crashes, {kind} ledger (seed {seed}): {len(outcomes)} trials ({trials} at random "
        f"moments within {span:.2f} s, {2 * len(APPS)} right after each post), {killed} runs "
        f"killed, then a clean run: lost {lost}; extra copies per crash per channel: mean "
        f"{statistics.fmean(per_crash):.2f}, worst {max(per_crash):.0f}; leftovers "
        f"{sum(len(o.leftovers) for o in outcomes)}; still owed "
        f"{sum(o.still_owed for o in outcomes)}; problems {len(problems)}  "
        f"[{time.monotonic() - started:.0f} s]"
    )
    for problem in problems[:5]:
        print(f"    {problem}")


def slow_channels(forker: Forker, azurite: AzuriteBlob, work: Path, ticks: int) -> None:
    export = write_export(work / "slow.json", apps(4), START)

    def one(slow: bool) -> tuple[float, float]:
        channels = Channels.start()
        server = channels.server
        try:
            silent = server.set("/workflows/SILENT/triggers/manual/paths/invoke", HANG)
            trickle = server.set("/services/T0/B0/TRICKLE", Trickle(0.1))
            teams = f"teams-ok={server.url(channels.teams)}"
            slack = f"slack-ok={server.url(channels.slack)}"
            if slow:
                teams += f",teams-silent={server.url(silent)}"
                slack += f",slack-trickle={server.url(trickle)}"
            ledger = BlobLedger(azurite, "slow")
            env = {
                "PULLWATCH_TEAMS_WEBHOOK_URLS": teams,
                "PULLWATCH_SLACK_WEBHOOK_URLS": slack,
                "PULLWATCH_DIGEST_THRESHOLD": "50",
                "PULLWATCH_TICK_BUDGET": f"{SLOW_BUDGET:g}s",
                **ledger.env(),
            }
            run = forker.start(["run", "--from-file", str(export), "--now", NOW], env)
            result = run.wait()
            ended = time.monotonic() - run.started
            assert result.code == 0, result.stderr
            healthy = [
                r.at - run.started
                for r in server.received
                if r.path in (channels.teams, channels.slack)
            ]
            assert len(healthy) == 8
            return max(healthy), ended
        finally:
            server.stop()

    base = [one(False) for _ in range(ticks)]
    slow = [one(True) for _ in range(ticks)]
    print(
        f"slow channels ({ticks} ticks each, tick budget {SLOW_BUDGET:g} s): the healthy "
        f"channels had all 8 posts after {statistics.median(b[0] for b in base):.2f} s "
        f"(median) without slow channels and after {statistics.median(s[0] for s in slow):.2f} s "
        f"(median, worst {max(s[0] for s in slow):.2f} s) next to a silent and a trickling "
        f"one; the tick ended after {statistics.median(b[1] for b in base):.2f} s and "
        f"{statistics.median(s[1] for s in slow):.2f} s (worst {max(s[1] for s in slow):.2f} s)"
    )


def storm(forker: Forker, azurite: AzuriteBlob, work: Path) -> None:
    names = [f"svc{n:04d}" for n in range(1000)]
    export = write_export(work / "storm.json", names, START, repeats=1)
    channels = Channels.start()
    try:
        ledger = BlobLedger(azurite, "storm")
        env = {**channels.env(), **ledger.env()}
        env.pop("PULLWATCH_DIGEST_THRESHOLD")  # the default: digests
        started = time.monotonic()
        result = forker.run(["run", "--from-file", str(export), "--now", NOW], env)
        elapsed = time.monotonic() - started
        assert result.code == 0, result.stderr
        summary = result.stderr.strip().splitlines()[-1]
        saves = int(re.search(r"(\d+) saves", summary).group(1))  # type: ignore[union-attr]
        sent = int(re.search(r"sent (\d+) messages", summary).group(1))  # type: ignore[union-attr]
        teams = len(channels.server.bodies(channels.teams))
        slack = len(channels.server.bodies(channels.slack))
        print(
            f"storm: 1,000 failing revisions in one tick, blob ledger, Teams and Slack: {sent} "
            f"messages (digest pages: Teams {teams}, Slack {slack}), {saves} ledger saves (the "
            f"intent, then one per accepted message at most) in {elapsed:.1f} s"
        )
    finally:
        channels.server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--slow-ticks", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="20 rounds, 30 trials, 2 slow ticks")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.trials, args.slow_ticks = 20, 30, 2
    with tempfile.TemporaryDirectory(prefix="faults-bench-") as name:
        work = Path(name)
        process, azurite = start_azurite(work)
        forker = Forker(work)
        try:
            concurrent(forker, azurite, work / "concurrent", args.rounds, args.seed)
            for kind in ("blob", "file"):
                crashes(forker, azurite, work, kind, args.trials, args.seed)
            slow_channels(forker, azurite, work, args.slow_ticks)
            storm(forker, azurite, work)
        finally:
            forker.close()
            stop_azurite(process)


if __name__ == "__main__":
    main()
