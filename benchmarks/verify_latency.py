"""Extra latency per tick of the configuration check, against a local fake Resource Graph.

Runs ``run_tick`` on the bundled sample logs with and without the verify stage; the verify stage
queries a local HTTP server (the test suite's fake: duckdb-kql executing the real query over
``samples/azure-resources.json``) through the real client. Prints the median and the 90th
percentile of the tick time both ways, their difference, and the Resource Graph round trip
alone. The fake's own query execution is part of the figure, so it is an upper bound for the
client side; Resource Graph's real answer time (typically well under a second) comes on top.

    python benchmarks/verify_latency.py [--ticks 20]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_httpserver import HTTPServer  # noqa: E402

from notifiers.console import DryRunNotifier  # noqa: E402
from pullwatch.decide import Policy  # noqa: E402
from pullwatch.fetch.filesource import FileSource  # noqa: E402
from pullwatch.ledger.stores import FileStore  # noqa: E402
from pullwatch.tick.pipeline import run_tick  # noqa: E402
from pullwatch.verify.query import build_query  # noqa: E402
from pullwatch.verify.stage import GraphSource, Verifier  # noqa: E402
from tests.fakes.resourcegraph import FakeResourceGraph  # noqa: E402

LOGS = ROOT / "samples" / "containerapp-system-logs-cl.json"
RESOURCES = ROOT / "samples" / "azure-resources.json"
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
# revisions of the sample whose cause the configuration can explain (401, 403, DNS, ...)
CHECKED = 5


def one_tick(verifier: Verifier | None) -> float:
    """One tick's time; it fails loudly unless every message was delivered and, with the check,
    every checked revision was checked (a figure for ticks that broke measures nothing)."""
    with tempfile.TemporaryDirectory() as folder:
        store = FileStore(Path(folder) / "ledger.json")
        started = time.perf_counter()
        summary = run_tick(
            source=FileSource(LOGS, Policy().quiet_period * 2),
            store=store,
            notifiers=[DryRunNotifier(lambda line: None)],
            policy=Policy(),
            now=NOW,
            enricher=verifier,
        )
        elapsed = time.perf_counter() - started
        if summary.failed or summary.errors or summary.refused or not summary.delivered:
            raise SystemExit(f"verify_latency: the tick did not deliver: {summary.line()}")
        if verifier is not None:
            ledger, _ = store.load()
            checks = [e.verification for e in ledger.entries.values() if e.verification]
            if len(checks) < CHECKED or any(c.get("error") for c in checks):
                errors = sorted({str(c.get("error")) for c in checks if c.get("error")})
                raise SystemExit(
                    f"verify_latency: {len(checks)} revision(s) checked, expected {CHECKED}; "
                    f"errors: {errors or 'none'}"
                )
        return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=20)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        fake = FakeResourceGraph(server)
        fake.load(RESOURCES)
        client = fake.client()
        query = build_query(
            ["inventory", "payments-api", "shipping", "catalog-web"],
            ["cae-prod-weu", "cae-stage-weu"],
        )
        client.query(query, deadline=time.monotonic() + 15)  # warm up (token, connection)
        one_tick(None)
        plain = [one_tick(None) for _ in range(args.ticks)]
        checked = [one_tick(Verifier(GraphSource(client))) for _ in range(args.ticks)]
        round_trips = []
        for _ in range(args.ticks):
            started = time.perf_counter()
            client.query(query, deadline=time.monotonic() + 15)
            round_trips.append(time.perf_counter() - started)
    finally:
        server.stop()

    def describe(values: list[float]) -> str:
        ordered = sorted(values)
        p90 = ordered[int(0.9 * (len(ordered) - 1))]
        return f"median {statistics.median(values) * 1000:.1f} ms, p90 {p90 * 1000:.1f} ms"

    print(f"ticks: {args.ticks} each way, sample logs {LOGS.name}, snapshot {RESOURCES.name}")
    print(f"tick without the check: {describe(plain)}")
    print(f"tick with the check:    {describe(checked)}")
    extra = statistics.median(checked) - statistics.median(plain)
    print(f"extra per tick (median): {extra * 1000:.1f} ms")
    print(f"Resource Graph round trip alone (fake, incl. duckdb-kql): {describe(round_trips)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
