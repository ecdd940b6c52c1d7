"""``benchmarks/verify_latency.py`` still runs: one tick each way, every message delivered and
every explainable revision checked (it exits non-zero otherwise). No time is asserted here: the
figure is the script's output, not a test's threshold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_latency_benchmark_runs_and_checks_what_it_measures() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "verify_latency.py"), "--ticks", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "extra per tick (median):" in result.stdout
    assert "failed" not in result.stderr
