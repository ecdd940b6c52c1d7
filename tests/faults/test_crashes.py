"""Crash injection: a ``pullwatch run`` killed with SIGKILL at random moments, or right after the
n-th post of its tick, then a clean run. Nothing is lost, a channel receives at most one extra
copy per crash (the post in flight), and nothing is left behind (temp files, a held lease).
Both ledgers: a blob on Azurite and a local file. The trials run three at a time, each on its
own ledger and its own webhook server."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fakes.azurite import AzuriteBlob
from tests.faults.harness import Forker, write_export
from tests.faults.trials import (
    APPS,
    START,
    CrashOutcome,
    LedgerUnderTest,
    clean_duration,
    crash_trial,
    in_parallel,
    ledger_maker,
)

SEED = 72026
RANDOM_TRIALS = 30
MakeLedger = Callable[[], LedgerUnderTest]


@pytest.fixture(params=["blob", "file"])
def make_ledger(request: pytest.FixtureRequest, azurite: AzuriteBlob, tmp_path: Path) -> MakeLedger:
    """Makes a fresh ledger of the kind under test for each trial."""
    return ledger_maker(request.param, azurite, tmp_path / "ledgers")


def check(outcomes: list[CrashOutcome]) -> None:
    problems = [problem for outcome in outcomes for problem in outcome.problems()]
    assert not problems, "\n".join(problems)


def test_killed_at_random_moments_then_a_clean_tick(
    forker: Forker, make_ledger: MakeLedger, tmp_path: Path
) -> None:
    export = write_export(tmp_path / "export.json", APPS, START)
    span = clean_duration(forker, make_ledger, export)
    rng = random.Random(SEED)
    jobs = []
    for number in range(RANDOM_TRIALS):
        ledger = make_ledger()
        kills = [rng.uniform(0.0, span) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
        where = (
            f"{ledger.kind} ledger, seed {SEED}, trial {number}, "
            f"killed at {', '.join(f'{k:.3f}' for k in kills)} s"
        )
        jobs.append((ledger, kills, where))
    outcomes = in_parallel(lambda job: crash_trial(forker, job[0], export, job[1], job[2]), jobs)
    check(outcomes)
    crashes = sum(o.crashes for o in outcomes)
    assert crashes >= RANDOM_TRIALS, f"seed {SEED}: only {crashes} runs were killed in time"
    assert any(
        o.repeats("teams") + o.repeats("slack") for o in outcomes
    )  # crashes did repeat posts


def test_killed_right_after_each_post_then_a_clean_tick(
    forker: Forker, make_ledger: MakeLedger, tmp_path: Path
) -> None:
    export = write_export(tmp_path / "export.json", APPS, START)
    posts = 2 * len(APPS)
    jobs: list[tuple[LedgerUnderTest, list[float | int], str]] = [
        (ledger, [n], f"{ledger.kind} ledger, killed after post {n}")
        for n in range(1, posts + 1)
        for ledger in [make_ledger()]
    ]
    # Twice in a row: c crashes give at most c extra copies per channel, not c + 1 rounds.
    ledger = make_ledger()
    jobs.append((ledger, [3, 2], f"{ledger.kind} ledger, killed after post 3, then 2"))
    outcomes = in_parallel(lambda job: crash_trial(forker, job[0], export, job[1], job[2]), jobs)
    check(outcomes)
    assert sum(o.crashes for o in outcomes) == posts + 2
    assert any(o.repeats("teams") + o.repeats("slack") for o in outcomes)  # kills did land
