"""Time and peak memory of reading a large log export with ``pullwatch scan --from-file``.

Builds an export of about ``--size-mb`` megabytes (default 200) from the bundled sample rows,
repeated for more and more apps (``tests/fakes/exports.py`` writes each tool's format), then runs
``python -m pullwatch scan --from-file FILE --json`` in a child process and reports its wall time
and peak resident memory (``ru_maxrss`` of that child, from ``os.wait4``). Each format is measured
twice: with ``--now`` (one pass over the file) and without (the newest row's time is found first:
two passes).

Run: ``make bench-export`` or ``.venv/bin/python benchmarks/export_bench.py [--size-mb N]
[--format az-list rest containerapp csv utf16]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.exports import (  # noqa: E402
    Row,
    containerapp_line,
    sample_rows,
    storm_copy,
    to_az_list,
    to_portal_csv,
    to_rest,
)

LEGACY = ROOT / "samples" / "containerapp-system-logs-cl.json"
RESOURCE = ROOT / "samples" / "containerapp-system-logs.json"
NOW = "2026-11-29T09:00:00Z"


def _chunks(rows: list[Row], render: Callable[[list[Row]], str], target: int) -> Iterator[str]:
    """Rendered copies of ``rows`` (``storm_copy``) until about ``target`` bytes were produced."""
    written = 0
    copy = 0
    while written < target:
        piece = render(storm_copy(rows, copy))
        written += len(piece.encode("utf-8"))
        copy += 1
        yield piece


def build(kind: str, path: Path, size: int) -> int:
    """Write an export of about ``size`` bytes; return the number of rows."""
    if kind in ("rest", "csv"):
        columns, rows = sample_rows(RESOURCE)
    else:
        columns, rows = sample_rows(LEGACY)
    count = 0

    def counted(render: Callable[[list[Row]], str]) -> Callable[[list[Row]], str]:
        def inner(batch: list[Row]) -> str:
            nonlocal count
            count += len(batch)
            return render(batch)

        return inner

    if kind in ("az-list", "utf16"):
        encoding = "utf-16" if kind == "utf16" else "utf-8"
        with path.open("w", encoding=encoding, newline="") as out:
            out.write("[\n")
            for number, piece in enumerate(
                _chunks(rows, counted(lambda b: to_az_list(columns, b)[2:-3]), size)
            ):
                out.write(("" if number == 0 else ",\n") + piece)
            out.write("\n]\n")
    elif kind == "rest":
        with path.open("w", encoding="utf-8") as out:
            head = to_rest(columns, rows[:1]).split('"rows": [\n', 1)[0]
            out.write(head + '"rows": [\n')
            for number, piece in enumerate(
                _chunks(rows, counted(lambda b: to_rest(columns, b).split("[\n", 1)[1][:-6]), size)
            ):
                out.write(("" if number == 0 else ",\n") + piece)
            out.write("\n]}]}\n")
    elif kind == "containerapp":
        with path.open("w", encoding="utf-8") as out:
            for piece in _chunks(
                rows, counted(lambda b: "".join(containerapp_line(r) + "\n" for r in b)), size
            ):
                out.write(piece)
    elif kind == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            out.write(to_portal_csv(columns, []))
            for piece in _chunks(
                rows, counted(lambda b: to_portal_csv(columns, b).split("\r\n", 1)[1]), size
            ):
                out.write(piece)
    else:
        raise SystemExit(f"unknown format {kind}")
    return count


def measure(path: Path, *, with_now: bool) -> tuple[float, float, int]:
    """(seconds, peak MiB, exit code) of one ``scan --from-file`` child process."""
    args = [sys.executable, "-m", "pullwatch", "scan", "--from-file", str(path), "--json"]
    args += ["--since", "7d"]
    if with_now:
        args += ["--now", NOW]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULLWATCH_")}
    start = time.perf_counter()
    child = subprocess.Popen(  # noqa: S603 - this repository's own CLI
        args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    if child.stderr is not None:
        err = child.stderr.read().decode("utf-8", "replace").strip().splitlines()
        child.stderr.close()
        if os.waitstatus_to_exitcode(status) != 0 and err:
            print(f"    stderr: {err[-1][:200]}")
    child.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024, child.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument(
        "--format",
        nargs="+",
        default=["az-list", "rest", "containerapp", "csv", "utf16"],
        choices=["az-list", "rest", "containerapp", "csv", "utf16"],
    )
    parser.add_argument("--keep", metavar="DIR", help="write the exports here and keep them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.keep or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; target {args.size_mb} MB")
        for kind in args.format:
            path = folder / f"export-{kind}.{'csv' if kind == 'csv' else 'json'}"
            rows = build(kind, path, args.size_mb * 1_000_000)
            size = path.stat().st_size / 1_000_000
            print(f"{kind}: {size:.0f} MB, {rows:,} rows")
            for with_now in (True, False):
                seconds, peak, code = measure(path, with_now=with_now)
                label = "--now given     " if with_now else "newest row's time"
                print(f"  {label}: {seconds:6.1f} s, peak {peak:7.0f} MiB, exit {code}")
            if not args.keep:
                path.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
