"""BlobStore against a real Azurite: round trip, ETag conflicts, first run, corrupt blob, lease."""

from __future__ import annotations

import re
import threading
import time

import pytest
from azure.storage.blob import BlobLeaseClient, BlobServiceClient, ContainerClient

from pullwatch.errors import LedgerBusy, LedgerConflict, LedgerCorrupt, LedgerError
from pullwatch.ledger import Ledger, add_silence, with_watermark
from pullwatch.ledger.stores import BlobStore, store_from_settings, update_ledger
from pullwatch.settings import Settings
from tests.fakes.azurite import AzuriteBlob

from .helpers import at, fail, tick


def _store(azurite: AzuriteBlob, container: str | None = None) -> BlobStore:
    return BlobStore.from_connection_string(
        azurite.connection_string, container or azurite.new_container(), "ledger.json"
    )


def _with_silence(ledger: Ledger, app: str) -> Ledger:
    return add_silence(ledger, app=app, expires=at(60), comment="c", now=at(0))[1]


def test_first_run_creates_the_container_and_the_blob(azurite: AzuriteBlob) -> None:
    store = _store(azurite)
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    assert not service.get_container_client(store.container).exists()
    assert store.load() == (Ledger.empty(), None)
    version = store.save(Ledger.empty(), None)
    assert service.get_container_client(store.container).exists()
    assert store.load() == (Ledger.empty(), version)


def test_round_trip(azurite: AzuriteBlob) -> None:
    store = _store(azurite)
    ledger = tick(Ledger.empty(), at(1), [fail("unauthorized", 0)]).ledger
    ledger = with_watermark(_with_silence(ledger, "orders"), at(1))
    version = store.save(ledger, None)
    loaded, loaded_version = store.load()
    assert loaded == ledger
    assert loaded_version == version
    blob = ContainerClient.from_connection_string(
        azurite.connection_string, store.container
    ).get_blob_client("ledger.json")
    assert blob.get_blob_properties().content_settings.content_type == "application/json"


def test_etag_conflict_between_two_writers(azurite: AzuriteBlob) -> None:
    store_a, container = _store(azurite), None
    container = store_a.container
    store_a.save(Ledger.empty(), None)
    store_b = _store(azurite, container)
    ledger_a, version_a = store_a.load()
    ledger_b, version_b = store_b.load()
    assert version_a == version_b
    store_a.save(_with_silence(ledger_a, "a"), version_a)
    with pytest.raises(LedgerConflict, match="changed by another writer"):
        store_b.save(_with_silence(ledger_b, "b"), version_b)
    # the loser reloads and applies its change again: nothing is lost
    update_ledger(store_b, lambda ledger: _with_silence(ledger, "b"))
    assert [s.app for s in store_a.load()[0].silences] == ["a", "b"]


def test_two_first_runs_race_to_create(azurite: AzuriteBlob) -> None:
    store_a = _store(azurite)
    store_b = _store(azurite, store_a.container)
    store_a.save(_with_silence(Ledger.empty(), "a"), None)
    with pytest.raises(LedgerConflict):
        store_b.save(_with_silence(Ledger.empty(), "b"), None)
    assert [s.app for s in store_b.load()[0].silences] == ["a"]


def test_concurrent_writers_exactly_one_wins_each_round(azurite: AzuriteBlob) -> None:
    store = _store(azurite)
    store.save(Ledger.empty(), None)
    ledger, version = store.load()
    results: list[str] = []
    barrier = threading.Barrier(4)

    def write(name: str) -> None:
        writer = _store(azurite, store.container)
        barrier.wait()
        try:
            writer.save(_with_silence(ledger, name), version)
            results.append("won")
        except LedgerConflict:
            results.append("conflict")

    threads = [threading.Thread(target=write, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["conflict", "conflict", "conflict", "won"]
    assert len(store.load()[0].silences) == 1


def test_corrupt_blob_raises_and_is_left_alone(azurite: AzuriteBlob) -> None:
    store = _store(azurite)
    container = ContainerClient.from_connection_string(azurite.connection_string, store.container)
    container.create_container()
    container.upload_blob("ledger.json", b'{"schema": "pullwatch.ledger/v1", "entries": ')
    with pytest.raises(LedgerCorrupt, match=f"blob {store.container}/ledger.json"):
        store.load()
    with pytest.raises(LedgerCorrupt):
        update_ledger(store, lambda ledger: ledger)
    assert container.download_blob("ledger.json").readall().endswith(b'"entries": ')


def test_store_from_settings_uses_the_connection_string(azurite: AzuriteBlob) -> None:
    settings = Settings(
        ledger_connection_string=azurite.connection_string,
        ledger_container=azurite.new_container(),
        ledger_blob="state/ledger.json",
    )
    store = store_from_settings(settings)
    assert isinstance(store, BlobStore)
    version = store.save(Ledger.empty(), None)
    assert store.load()[1] == version


def test_unreachable_account_is_a_clear_error() -> None:
    store = BlobStore.from_connection_string(
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
        "BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;",
        "pullwatch",
        "ledger.json",
        retry_total=0,
    )
    with pytest.raises(LedgerError) as error:
        store.load()
    assert "cannot read ledger blob pullwatch/ledger.json" in str(error.value)
    assert "AccountKey" not in str(error.value) and "Eby8" not in str(error.value)


# --- the lease: one run at a time ------------------------------------------------------------


def test_the_first_locked_run_creates_the_blob_empty_and_leases_it(azurite: AzuriteBlob) -> None:
    store = _store(azurite)
    with store.locked():
        ledger, version = store.load()
        assert ledger == Ledger.empty() and version is not None  # the empty, leased blob
        properties = (
            ContainerClient.from_connection_string(azurite.connection_string, store.container)
            .get_blob_client("ledger.json")
            .get_blob_properties()
        )
        assert properties.lease.state == "leased" and properties.size == 0
        store.save(_with_silence(ledger, "a"), version)
    assert [s.app for s in store.load()[0].silences] == ["a"]
    released = ContainerClient.from_connection_string(
        azurite.connection_string, store.container
    ).get_blob_client("ledger.json")
    assert released.get_blob_properties().lease.state == "available"


def test_a_second_run_waits_a_bounded_time_then_names_the_ledger_and_the_holder(
    azurite: AzuriteBlob,
) -> None:
    holder = _store(azurite)
    waiting = BlobStore.from_connection_string(
        azurite.connection_string, holder.container, "ledger.json", wait=1.0
    )
    with holder.locked():
        started = time.monotonic()
        with pytest.raises(LedgerBusy) as busy, waiting.locked():
            pass  # pragma: no cover - never entered
        assert 1.0 <= time.monotonic() - started < 5
    message = str(busy.value)
    assert f"ledger blob {holder.container}/ledger.json is in use by another run" in message
    assert re.search(r"holding it for \d+ s", message) and "AccountKey" not in message


def test_a_waiting_run_gets_the_lease_when_the_holder_finishes(azurite: AzuriteBlob) -> None:
    holder = _store(azurite)
    holder.save(Ledger.empty(), None)
    order: list[str] = []

    def hold() -> None:
        with holder.locked():
            order.append("holder in")
            time.sleep(0.8)
            ledger, version = holder.load()
            holder.save(_with_silence(ledger, "holder"), version)
            order.append("holder out")

    thread = threading.Thread(target=hold)
    thread.start()
    while not order:
        time.sleep(0.01)
    update_ledger(_store(azurite, holder.container), lambda ledger: _with_silence(ledger, "cli"))
    order.append("cli done")
    thread.join(timeout=30)
    assert order == ["holder in", "holder out", "cli done"]
    assert [s.app for s in holder.load()[0].silences] == ["holder", "cli"]  # nothing lost


def test_a_writer_without_the_lease_cannot_overwrite_the_ledger(azurite: AzuriteBlob) -> None:
    holder = _store(azurite)
    holder.save(Ledger.empty(), None)
    intruder = _store(azurite, holder.container)
    with holder.locked():
        ledger, version = intruder.load()
        with pytest.raises(LedgerError, match="leased by another run"):
            intruder.save(_with_silence(ledger, "intruder"), version)
    assert holder.load()[0].silences == ()


@pytest.mark.slow
def test_a_lease_left_by_a_killed_run_expires_by_itself(azurite: AzuriteBlob) -> None:
    crashed = _store(azurite)
    crashed.save(Ledger.empty(), None)
    BlobLeaseClient(crashed._blob).acquire(lease_duration=15)  # taken, never released or renewed
    later = BlobStore.from_connection_string(
        azurite.connection_string, crashed.container, "ledger.json", wait=30.0
    )
    started = time.monotonic()
    with later.locked():
        waited = time.monotonic() - started
        ledger, version = later.load()
        later.save(_with_silence(ledger, "after"), version)
    assert 10 <= waited <= 20  # about the lease's 15 s
