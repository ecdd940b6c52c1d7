"""A real Azurite Blob service for the test session (a pytest plugin).

Register with ``pytest_plugins = ["tests.fakes.azurite"]`` in ``tests/conftest.py`` and ask for
the session-scoped ``azurite`` fixture::

    def test_round_trip(azurite: AzuriteBlob) -> None:
        client = BlobServiceClient.from_connection_string(azurite.connection_string)

Azurite (pinned in ``tools/package.json``) is started once per session from
``tools/node_modules/.bin`` on a free 127.0.0.1 port with in-memory persistence, and stopped at
the end. If it cannot start the fixture *fails* the test (it never skips): the tests promise to
run against the real emulator. Use a fresh container name per test (``azurite.new_container()``).
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = ROOT / "tools" / "node_modules" / ".bin"
ACCOUNT_NAME = "devstoreaccount1"
# Azurite's published, fixed development key (not a secret).
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
START_TIMEOUT = 20.0


@dataclass(frozen=True)
class AzuriteBlob:
    """A running Azurite Blob endpoint."""

    blob_endpoint: str  # http://127.0.0.1:<port>/devstoreaccount1
    connection_string: str
    port: int
    account_name: str = ACCOUNT_NAME
    account_key: str = ACCOUNT_KEY
    _names: Iterator[int] = field(default_factory=itertools.count, repr=False, compare=False)

    def new_container(self, prefix: str = "test") -> str:
        """A container name not used before in this session (valid: lowercase, 3-63 chars)."""
        return f"{prefix}-{os.getpid()}-{next(self._names)}".lower()


def azurite_executable() -> Path:
    for name in ("azurite-blob", "azurite"):
        candidate = BIN_DIR / name
        if candidate.exists():
            return candidate
    raise FileNotFoundError(
        f"Azurite is not installed in {BIN_DIR}: run `npm ci --prefix tools` (see tools/package.json)"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def connection_string(port: int) -> str:
    endpoint = f"http://127.0.0.1:{port}/{ACCOUNT_NAME}"
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint={endpoint};"
    )


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def start_azurite(workdir: Path) -> tuple[subprocess.Popen[bytes], AzuriteBlob]:
    """Start Azurite Blob on a free port (three tries); raise ``RuntimeError`` if it cannot."""
    executable = azurite_executable()
    if shutil.which("node") is None:
        raise RuntimeError("node is not on PATH; Azurite needs Node.js 20")
    last_output = ""
    for _ in range(3):
        port = free_port()
        log_path = workdir / f"azurite-{port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    str(executable),
                    "--inMemoryPersistence",
                    "--skipApiVersionCheck",
                    "--disableTelemetry",
                    "--blobHost",
                    "127.0.0.1",
                    "--blobPort",
                    str(port),
                ],
                cwd=workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if _wait_for_port(port, process, START_TIMEOUT):
            endpoint = f"http://127.0.0.1:{port}/{ACCOUNT_NAME}"
            return process, AzuriteBlob(endpoint, connection_string(port), port)
        stop_azurite(process)
        last_output = log_path.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"Azurite did not start; its last output:\n{last_output}")


def stop_azurite(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzuriteBlob]:
    """A running Azurite Blob service for the whole session; fails (never skips) if it cannot start."""
    workdir = tmp_path_factory.mktemp("azurite")
    try:
        process, blob = start_azurite(workdir)
    except (OSError, RuntimeError) as error:
        pytest.fail(f"cannot start Azurite: {error}", pytrace=False)
    try:
        yield blob
    finally:
        stop_azurite(process)
