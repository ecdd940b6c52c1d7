"""Run ``python -m pullwatch`` as a user would: a subprocess, no PULLWATCH_* settings inherited."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pullwatch(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PULLWATCH_")}
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pullwatch", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=clean,
        timeout=120,
        check=False,
    )
