"""Shared paths and parsed files for the infra tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pycep import BicepParser

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))


@pytest.fixture(scope="session")
def bicep_json() -> dict[str, Any]:
    """pycep's JSON tree of every Bicep file, keyed by path relative to infra/."""
    parser = BicepParser()
    return {
        path.relative_to(INFRA).as_posix(): parser.parse(file_path=path) for path in BICEP_FILES
    }


@pytest.fixture(scope="session")
def az_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real az's configuration and already-checked command lines, shared (tests/infra/azcli.py)."""
    return tmp_path_factory.mktemp("az-cache")
