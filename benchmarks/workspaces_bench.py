"""A tick's query time over many workspaces, each answering slowly (the fake Log Analytics).

Every workspace holds the bundled sample logs and the fake endpoint (the test suite's: the real
``LogsQueryClient`` against a local threaded HTTP server, duckdb-kql executing the real query)
waits ``--delay`` seconds before each answer. The source queries at most
``MAX_PARALLEL_QUERIES`` workspaces at once (Log Analytics runs 5 queries of one user at a time
and queues the rest), so the time grows by one delay per 5 workspaces, not per workspace.
Prints, per workspace count, the time of ``LogAnalyticsSource.fetch`` and what sequential
queries would take. Every workspace holds the same rows, so the fake runs each distinct query
once in duckdb-kql and reuses the answer: the figure is the delay plus pullwatch's own work.

    python benchmarks/workspaces_bench.py [--delay 2] [--counts 1 5 20]
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_httpserver import HTTPServer  # noqa: E402

from pullwatch.fetch.logquery import MAX_PARALLEL_QUERIES  # noqa: E402
from pullwatch.settings import TableMode  # noqa: E402
from tests.fakes.loganalytics import FakeLogAnalytics  # noqa: E402

SAMPLE = ROOT / "samples" / "containerapp-system-logs.json"
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


class SameRowsEverywhere(FakeLogAnalytics):
    """Every workspace holds the same rows, so each distinct query runs once in duckdb-kql and
    its answer is reused: the figure is the delay and pullwatch's own work, not the fake's."""

    def __init__(self, server: HTTPServer) -> None:
        super().__init__(server)
        self._answers: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def _execute(self, workspace: str, query: str, *, empty: bool) -> dict[str, Any]:
        with self._lock:
            if query not in self._answers:
                self._answers[query] = super()._execute(workspace, query, empty=empty)
            return self._answers[query]


def workspace(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def measure(fake: FakeLogAnalytics, count: int) -> float:
    ids = [workspace(n) for n in range(count)]
    for ws in ids:
        fake.load_export(SAMPLE, workspace=ws)
    source = fake.source(TableMode.RESOURCE, workspace_ids=ids)
    started = time.perf_counter()
    result = source.fetch(now=NOW)
    elapsed = time.perf_counter() - started
    if result.failed or len({w.workspace for w in result.workspaces}) != count:
        raise SystemExit(f"{count} workspaces: not every workspace answered: {result.failed}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=2.0, help="seconds per answer")
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 5, 20])
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        print(
            f"fake Log Analytics answering after {args.delay:.1f} s per query; at most "
            f"{MAX_PARALLEL_QUERIES} queries at once"
        )
        print(f"{'workspaces':>10}  {'tick query':>10}  {'sequential':>10}  {'expected':>9}")
        for count in args.counts:
            fake = SameRowsEverywhere(server)
            fake.delay = args.delay
            elapsed = measure(fake, count)
            rounds = math.ceil(count / MAX_PARALLEL_QUERIES)
            print(
                f"{count:>10}  {elapsed:>9.2f}s  {count * args.delay:>9.1f}s  "
                f"{rounds * args.delay:>8.1f}s"
            )
            server.clear()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
