"""FileStore: atomic replace, exclusive lock across processes, corrupt files are errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pullwatch.errors import LedgerBusy, LedgerConflict, LedgerCorrupt, LedgerError
from pullwatch.ledger import Ledger, add_silence, with_watermark
from pullwatch.ledger.stores import FileStore, update_ledger

from .helpers import at

ROOT = Path(__file__).resolve().parents[2]


def _with_silence(ledger: Ledger, app: str) -> Ledger:
    return add_silence(ledger, app=app, expires=at(60), comment="c", now=at(0))[1]


def test_first_load_is_empty_and_the_directory_is_created(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "state" / "ledger.json")
    ledger, version = store.load()
    assert (ledger, version) == (Ledger.empty(), None)
    new_version = store.save(with_watermark(ledger, at(1)), None)
    assert store.load() == (with_watermark(Ledger.empty(), at(1)), new_version)


def test_stale_version_conflicts_and_keeps_the_winner(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "ledger.json")
    store.save(Ledger.empty(), None)
    first, version = store.load()
    second, same_version = store.load()
    store.save(_with_silence(first, "winner"), version)
    with pytest.raises(LedgerConflict, match="changed by another run"):
        store.save(_with_silence(second, "loser"), same_version)
    assert [s.app for s in store.load()[0].silences] == ["winner"]


def test_creating_over_an_existing_file_conflicts(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "ledger.json")
    store.save(Ledger.empty(), None)
    with pytest.raises(LedgerConflict):
        store.save(Ledger.empty(), None)


def test_update_ledger_applies_the_change(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "ledger.json")
    update_ledger(store, lambda ledger: _with_silence(ledger, "a"))
    update_ledger(store, lambda ledger: _with_silence(ledger, "b"))
    assert [s.app for s in store.load()[0].silences] == ["a", "b"]


@pytest.mark.parametrize("content", [b"{not json", b'{"schema": "other"}', b""])
def test_corrupt_file_raises_and_is_left_alone(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "ledger.json"
    path.write_bytes(content)
    store = FileStore(path)
    with pytest.raises(LedgerCorrupt, match=str(path)):
        store.load()
    with pytest.raises(LedgerCorrupt):
        update_ledger(store, lambda ledger: ledger)
    assert path.read_bytes() == content


def test_failed_rename_leaves_the_old_ledger_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ledger.json"
    store = FileStore(path)
    version = store.save(_with_silence(Ledger.empty(), "old"), None)
    before = path.read_bytes()

    def broken_replace(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(LedgerError, match=r"cannot write ledger file .*No space left on device"):
        store.save(_with_silence(Ledger.empty(), "new"), version)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.json", "ledger.json.lock"]


CRASH_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from datetime import UTC, datetime
    from pullwatch.ledger import Ledger, with_watermark
    from pullwatch.ledger.stores import FileStore

    store = FileStore(sys.argv[1])
    ledger, version = store.load()
    os.replace = lambda *a, **k: os._exit(9)  # the process dies between write and rename
    store.save(with_watermark(ledger, datetime(2030, 1, 1, tzinfo=UTC)), version)
    """
)


def test_process_killed_between_write_and_rename_leaves_the_old_ledger(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    store = FileStore(path)
    version = store.save(_with_silence(Ledger.empty(), "old"), None)
    before = path.read_bytes()
    result = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, str(path)], cwd=ROOT, check=False, timeout=30
    )
    assert result.returncode == 9
    assert path.read_bytes() == before
    ledger, same = store.load()
    assert same == version and [s.app for s in ledger.silences] == ["old"]
    store.save(ledger, version)  # the dead process's lock was released


WORKER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime, timedelta
    from pullwatch.ledger import add_silence
    from pullwatch.ledger.stores import FileStore

    path, name, rounds, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    store = FileStore(path)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    while time.time() < start:  # start together so the runs overlap
        time.sleep(0.001)
    for number in range(rounds):
        with store.locked():
            ledger, version = store.load()
            _, ledger = add_silence(
                ledger, app=f"{name}-{number}", expires=now + timedelta(days=1),
                comment="c", now=now,
            )
            store.save(ledger, version)
    """
)


def test_two_processes_never_lose_a_modification(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    rounds = 40
    start = str(time.time() + 1.5)  # both interpreters are up by then
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER_SCRIPT, str(path), name, str(rounds), start], cwd=ROOT
        )
        for name in ("a", "b")
    ]
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0]
    ledger, _ = FileStore(path).load()
    apps = sorted(s.app for s in ledger.silences)
    expected = sorted(f"{name}-{n}" for name in ("a", "b") for n in range(rounds))
    assert apps == expected
    assert len({s.id for s in ledger.silences}) == 2 * rounds
    assert ledger.seq == 2 * rounds


def test_store_from_settings_chooses_file_or_blob(tmp_path: Path) -> None:
    from pullwatch.ledger.stores import BlobStore, store_from_settings
    from pullwatch.settings import Settings

    file_store = store_from_settings(Settings(ledger_path=str(tmp_path / "l.json")))
    assert isinstance(file_store, FileStore) and file_store.path == tmp_path / "l.json"
    blob_settings = Settings(
        ledger_account_url="https://pullwatchstate.blob.core.windows.net",
        azure_client_id="11111111-1111-1111-1111-111111111111",
    )
    blob_store = store_from_settings(blob_settings)
    assert isinstance(blob_store, BlobStore)
    assert blob_store.describe() == "blob pullwatch/ledger.json"
    overridden = store_from_settings(blob_settings, path=str(tmp_path / "x.json"))
    assert isinstance(overridden, FileStore)


HOLD_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pullwatch.ledger.stores import FileStore

    with FileStore(sys.argv[1]).locked():
        print("locked", flush=True)
        time.sleep(30)
    """
)


def test_a_second_run_waits_a_bounded_time_then_names_the_ledger_and_the_holder(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.json"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        started = time.monotonic()
        with pytest.raises(LedgerBusy) as busy, FileStore(path, wait=0.6).locked():
            pass  # pragma: no cover - never entered
        assert 0.6 <= time.monotonic() - started < 3
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert re.search(
        rf"ledger file {re.escape(str(path))} is in use by another run \(pid {holder.pid}, "
        r"holding it for \d+ s\); gave up after waiting 0.6 s",
        str(busy.value),
    )
    with FileStore(path, wait=5).locked():  # the killed holder's lock went with it
        pass


def test_temp_files_of_a_killed_save_are_removed_by_the_next_lock_holder(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    store = FileStore(path)
    store.save(Ledger.empty(), None)
    (tmp_path / ".ledger.json.k2j3h4.tmp").write_text("half a ledger")
    (tmp_path / "unrelated.tmp").write_text("not ours")
    with store.locked():
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ledger.json",
        "ledger.json.lock",
        "unrelated.tmp",
    ]
