"""Two to four ``pullwatch run`` processes at once on one Azurite blob ledger, posting to the same
Teams and Slack servers: every alert arrives exactly once per channel, and no run ends in a
traceback.

A run that finds the lease taken waits for it (60 s by default) and then plans on the ledger
the holder saved, so it has nothing left to post. Some runs here are given a short wait
(``lock_wait``) to see the other outcome: such a run gives up with the one-line "in use by
another run" error and exit code 2, having posted nothing. That exit is acceptable: the holder
delivers everything, nothing is lost or repeated, and the next tick is the retry (the Function's
timer does not retry a failed run either).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.fakes.azurite import AzuriteBlob
from tests.faults.harness import Forker, apps, one_line_error
from tests.faults.trials import BlobLedger, FileLedger, RoundOutcome, concurrent_round, in_parallel

SEED = 20261129
ROUNDS = 20


def check(outcome: RoundOutcome) -> None:
    for result in outcome.results:
        assert not result.traceback, f"{outcome.where}: {result.stderr}"
        assert result.code == 0 or one_line_error(
            result, "is in use by another run", "gave up after waiting"
        ), f"{outcome.where}: exit {result.code}: {result.stderr}"
    assert len(outcome.gave_up) < len(outcome.results), f"{outcome.where}: nobody ran"
    assert outcome.lost() == 0 and outcome.duplicates() == 0, (outcome.where, outcome.received)


def test_concurrent_runs_on_one_blob_ledger_post_every_alert_exactly_once(
    forker: Forker, azurite: AzuriteBlob, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    jobs = []
    for number in range(ROUNDS):
        failing = apps(rng.randint(2, 5))
        # Start 2-4 runs up to 150 ms apart; a third of them wait only 0.1 s for the lease.
        starts = [
            (rng.uniform(0, 0.15), rng.choice([None, None, 0.1])) for _ in range(rng.randint(2, 4))
        ]
        jobs.append((failing, starts, f"seed {SEED}, round {number}"))
    outcomes = in_parallel(
        lambda job: concurrent_round(
            forker, BlobLedger(azurite, "concurrent"), job[0], tmp_path, job[1], job[2]
        ),
        jobs,
        workers=2,
    )
    for outcome in outcomes:
        check(outcome)
    assert any(outcome.gave_up for outcome in outcomes)  # the short waits did give up


@pytest.mark.parametrize("lock_wait", [None, 0.1], ids=["waits", "gives-up"])
def test_concurrent_runs_on_one_file_ledger_post_every_alert_exactly_once(
    forker: Forker, tmp_path: Path, lock_wait: float | None
) -> None:
    outcome = concurrent_round(
        forker,
        FileLedger(tmp_path / "ledger"),
        apps(4),
        tmp_path,
        [(0.0, lock_wait)] * 4,
        f"file ledger, lock wait {lock_wait}",
    )
    check(outcome)
