"""Cold-start import cost of the Function: ``python -X importtime -c "import function_app"``.

Runs the import in a fresh interpreter ``--runs`` times (default 9) and prints the cumulative
import time of ``function_app`` (the last line of ``-X importtime``'s report): median, best and
worst, and the ten slowest top-level packages of the median run. ``--checkout DIR`` measures
another checkout with this interpreter; ``--against DIR`` measures this checkout and DIR in
alternating runs (so that a busy machine slows both alike) and prints both::

    python benchmarks/import_time.py
    python benchmarks/import_time.py --against ../main
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(checkout: Path) -> tuple[int, dict[str, int]]:
    """Microseconds to import ``function_app`` in ``checkout``, and each top-level package's."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import function_app"],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    )
    packages: dict[str, int] = {}
    total = 0
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        _, cumulative, field = line.split("|")
        name = field.strip()
        if not cumulative.strip().isdigit():
            continue  # the header line
        if name == "function_app":
            total = int(cumulative)
        elif len(field) - len(field.lstrip()) == 3:  # imported by function_app itself
            packages[name] = int(cumulative)
    return total, packages


def report(checkout: Path, runs: list[tuple[int, dict[str, int]]]) -> None:
    totals = sorted(total for total, _ in runs)
    median = statistics.median(totals)
    print(f"import function_app in {checkout} ({len(runs)} runs)")
    print(
        f"  median {median / 1000:.0f} ms, best {totals[0] / 1000:.0f} ms, "
        f"worst {totals[-1] / 1000:.0f} ms"
    )
    _, packages = min(runs, key=lambda run: abs(run[0] - median))
    for name, micros in sorted(packages.items(), key=lambda item: -item[1])[:5]:
        print(f"  {micros / 1000:7.1f} ms  {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--checkout", type=Path, default=ROOT)
    parser.add_argument("--against", type=Path, help="another checkout, measured alternately")
    args = parser.parse_args()
    checkouts = [args.checkout.resolve()]
    if args.against is not None:
        checkouts.append(args.against.resolve())
    runs: dict[Path, list[tuple[int, dict[str, int]]]] = {c: [] for c in checkouts}
    for _ in range(args.runs):
        for checkout in checkouts:
            runs[checkout].append(measure(checkout))
    for checkout in checkouts:
        report(checkout, runs[checkout])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
