"""Fixtures of the fault tests: the forking parent and the local webhook channels."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.harness import Channels, Forker


@pytest.fixture(scope="session")
def forker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Forker]:
    parent = Forker(tmp_path_factory.mktemp("runs"))
    try:
        yield parent
    finally:
        parent.close()


@pytest.fixture
def channels() -> Iterator[Channels]:
    chat = Channels.start()
    try:
        yield chat
    finally:
        chat.server.stop()


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return tmp_path / "export.json"
