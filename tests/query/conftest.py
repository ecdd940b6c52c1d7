"""Fixtures of the log-query tests: Microsoft's Kusto language service, started once per session."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECK_JS = ROOT / "tools" / "kusto" / "check.js"
SCHEMAS = ROOT / "tools" / "kusto" / "schemas.json"
SAMPLES = ROOT / "samples"
LEGACY_SAMPLE = SAMPLES / "containerapp-system-logs-cl.json"
RESOURCE_SAMPLE = SAMPLES / "containerapp-system-logs.json"


class KustoChecker:
    """Talks to ``node tools/kusto/check.js --lines``: one JSON request and answer per line."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None:
            pytest.fail("node is needed for the KQL checks (tools/kusto/check.js)")
        self._process = subprocess.Popen(
            [node, str(CHECK_JS), "--lines"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def check(
        self, queries: Sequence[str], schema: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """One result per query: {"ok": bool, "diagnostics": [{severity, code, message, ...}]}."""
        request = {"queries": list(queries), "schema": schema or json.loads(SCHEMAS.read_text())}
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        answer = json.loads(self._process.stdout.readline())
        assert "error" not in answer, answer
        results: list[dict[str, Any]] = answer["results"]
        return results

    def close(self) -> None:
        if self._process.stdin:
            self._process.stdin.close()
        self._process.wait(timeout=10)


@pytest.fixture(scope="session")
def kusto() -> Iterator[KustoChecker]:
    checker = KustoChecker()
    yield checker
    checker.close()
