"""A ledger that cannot be saved before anything is sent: a read-only directory, a full tmpfs
(where one can be mounted), Azure Storage answering 403 (a read-only SAS, and a proxy in front
of Azurite that refuses uploads). Each tick then posts nothing and fails with one line naming
the ledger and the cause, exit code 2; once the ledger is writable, every alert goes out once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.storage.blob import (
    BlobServiceClient,
    ContainerSasPermissions,
    generate_container_sas,
)

from tests.fakes.azurite import ACCOUNT_KEY, ACCOUNT_NAME, AzuriteBlob
from tests.fakes.storage_proxy import StorageProxy
from tests.faults.harness import (
    Channels,
    Forker,
    Result,
    apps,
    one_line_error,
    revision,
    write_export,
)

START = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
FAILING = apps(3)
NOBODY = (65534, 65534)  # who runs pullwatch when the tests run as root (root ignores modes)


def tick_at(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory the run's user can use (pytest's tmp_path is root's alone when root)."""
    path = Path(tempfile.mkdtemp(prefix="pullwatch-faults-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for root, dirs, _ in os.walk(path):
            for name in dirs:
                Path(root, name).chmod(0o755)
        shutil.rmtree(path, ignore_errors=True)


def owned(path: Path) -> Path:
    if os.geteuid() == 0:
        os.chown(path, *NOBODY)
    return path


def ticks_post_nothing_until_writable(
    run: Callable[[str], Result],
    channels: Channels,
    make_writable: Callable[[], None],
    *words: str,
) -> None:
    """Two ticks that cannot save post nothing and fail with one line; then, writable, the
    next tick posts every alert once and the one after it nothing."""
    for minutes in (10, 15):
        result = run(tick_at(minutes))
        assert one_line_error(result, *words), (result.code, result.stderr)
        assert channels.server.requests == 0
    make_writable()
    for minutes in (20, 25):
        result = run(tick_at(minutes))
        assert result.code == 0 and not result.traceback, result.stderr
    expected = Counter({("firing", revision(app)): 1 for app in FAILING})
    assert channels.alerts(channels.teams) == channels.alerts(channels.slack) == expected


def test_read_only_directory(forker: Forker, channels: Channels, shared_dir: Path) -> None:
    directory = shared_dir / "ledger"
    directory.mkdir()
    owned(directory)
    quiet = write_export(shared_dir / "quiet.json", [], START)
    export = write_export(shared_dir / "export.json", FAILING, START)
    ledger = directory / "ledger.json"
    user = NOBODY if os.geteuid() == 0 else None

    def run_on(source: Path, now: str) -> Result:
        argv = ["run", "--from-file", str(source), "--now", now, "--ledger", str(ledger)]
        return forker.run(argv, channels.env(), user=user)

    first = run_on(quiet, tick_at(5))  # the ledger and its lock file exist, nothing is owed
    assert first.code == 0 and ledger.is_file(), first.stderr
    directory.chmod(0o555)
    ticks_post_nothing_until_writable(
        lambda now: run_on(export, now),
        channels,
        lambda: directory.chmod(0o755),
        f"cannot write ledger file {ledger}",
        "Permission denied (EACCES)",
    )
    assert sorted(p.name for p in directory.iterdir()) == ["ledger.json", "ledger.json.lock"]


@contextlib.contextmanager
def small_tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], capture_output=True, check=False)


def fill(directory: Path) -> Path:
    """Write until the filesystem is full; the file that filled it."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0" * 4096)
    finally:
        os.close(fd)
    return filler


def test_full_tmpfs(forker: Forker, channels: Channels, tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "small", "256k") as directory:
        quiet = write_export(tmp_path / "quiet.json", [], START)
        export = write_export(tmp_path / "export.json", FAILING, START)
        ledger = directory / "ledger.json"

        def run_on(source: Path, now: str) -> Result:
            argv = ["run", "--from-file", str(source), "--now", now, "--ledger", str(ledger)]
            return forker.run(argv, channels.env())

        assert run_on(quiet, tick_at(5)).code == 0
        filler = fill(directory)
        ticks_post_nothing_until_writable(
            lambda now: run_on(export, now),
            channels,
            filler.unlink,
            f"cannot write ledger file {ledger}",
            "No space left on device (ENOSPC)",
        )
        assert sorted(p.name for p in directory.iterdir()) == ["ledger.json", "ledger.json.lock"]


def read_only_sas(azurite: AzuriteBlob, container: str) -> str:
    """A connection string whose SAS may read and list the container, not write."""
    sas = generate_container_sas(
        ACCOUNT_NAME,
        container,
        account_key=ACCOUNT_KEY,
        permission=ContainerSasPermissions(read=True, list=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
    return f"BlobEndpoint={azurite.blob_endpoint};SharedAccessSignature={sas}"


def test_storage_403_for_a_read_only_sas(
    forker: Forker, channels: Channels, azurite: AzuriteBlob, tmp_path: Path
) -> None:
    container = azurite.new_container("readonly")
    BlobServiceClient.from_connection_string(azurite.connection_string).create_container(container)
    export = write_export(tmp_path / "export.json", FAILING, START)
    connection = {"value": read_only_sas(azurite, container)}

    def run(now: str) -> Result:
        env = {
            **channels.env(),
            "PULLWATCH_LEDGER_CONNECTION_STRING": connection["value"],
            "PULLWATCH_LEDGER_CONTAINER": container,
        }
        return forker.run(["run", "--from-file", str(export), "--now", now], env)

    def writable() -> None:
        connection["value"] = azurite.connection_string

    ticks_post_nothing_until_writable(
        run, channels, writable, f"ledger blob {container}/ledger.json", "HTTP 403"
    )


def test_storage_403_for_uploads_behind_a_proxy(
    forker: Forker, channels: Channels, azurite: AzuriteBlob, tmp_path: Path
) -> None:
    """Leases and metadata pass, the upload of the planned ledger (the intent) is refused: the
    tick fails at its commit-intent save, before the first post."""
    proxy = StorageProxy(azurite).start()
    try:
        container = azurite.new_container("proxied")
        export = write_export(tmp_path / "export.json", FAILING, START)
        quiet = write_export(tmp_path / "quiet.json", [], START)
        env = {
            **channels.env(),
            "PULLWATCH_LEDGER_CONNECTION_STRING": proxy.connection_string,
            "PULLWATCH_LEDGER_CONTAINER": container,
        }
        first = forker.run(["run", "--from-file", str(quiet), "--now", tick_at(5)], env)
        assert first.code == 0, first.stderr  # the ledger blob exists
        proxy.deny_writes = True

        def writable() -> None:
            proxy.deny_writes = False

        ticks_post_nothing_until_writable(
            lambda now: forker.run(["run", "--from-file", str(export), "--now", now], env),
            channels,
            writable,
            f"cannot write ledger blob {container}/ledger.json",
            "HTTP 403 AuthorizationPermissionMismatch",
        )
        assert proxy.refused >= 2
    finally:
        proxy.stop()
