"""Where the ledger document lives: a local file or an Azure Storage blob. Does disk and network I/O.

Both stores implement ``LedgerStore``: ``load()`` returns the ledger and an opaque version
(``None`` when no document exists yet) and ``save(ledger, version)`` writes only if the stored
document is still that version (optimistic concurrency), else raises ``LedgerConflict``.
A document that cannot be read raises ``LedgerCorrupt``; it is never silently replaced; one that
cannot be written raises ``LedgerError`` naming the ledger and the cause (no space, permission).

Both also hold the ledger for a whole tick with ``with store.locked():`` (load → last save), so
two runs never interleave; a run that finds it taken waits up to ``wait`` seconds, then raises
``LedgerBusy`` naming the ledger and how long the holder has had it.

- ``FileStore``: version = SHA-256 of the file's bytes. ``locked()`` holds an exclusive ``flock``
  on ``<path>.lock`` (which records the holder's pid and start); ``save`` writes a temp file in
  the same directory, fsyncs it, ``os.replace``s it and fsyncs the directory, so a crash leaves
  the old file intact (temp files a killed run left behind are removed by the next lock holder).
- ``BlobStore``: one JSON blob; version = ETag; ``If-Match`` on save, create-only
  (``If-None-Match: *``) when there was no blob; the container is created if missing.
  ``locked()`` holds a blob lease (``LEASE_SECONDS``, renewed in the background, released at the
  end; a crashed run's lease simply expires). The first run creates the blob empty to lease it.

``update_ledger(store, change)`` is the locked load → change → save loop with one retry on a
conflict.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pullwatch.errors import LedgerBusy, LedgerConflict, LedgerError
from pullwatch.ledger import Ledger

if TYPE_CHECKING:
    from azure.storage.blob import BlobLeaseClient, ContainerClient

    from pullwatch.settings import Settings

log = logging.getLogger(__name__)

# Seconds a run waits for another run's lock or lease before giving up (read when a store is
# made: the fault tests shorten it in their child processes to see runs give up).
LOCK_WAIT = 60.0
LEASE_SECONDS = 15  # blob lease duration (15-60 s); renewed every third of it
_POLL = 0.25


class LedgerStore(Protocol):
    """Somewhere the ledger document is kept, with optimistic concurrency."""

    def load(self) -> tuple[Ledger, str | None]:
        """The stored ledger and its version; an empty ledger and ``None`` when there is none."""
        ...

    def save(self, ledger: Ledger, version: str | None) -> str:
        """Write ``ledger`` if the stored version is still ``version`` (``None``: must not exist
        yet); return the new version. Raises ``LedgerConflict`` otherwise."""
        ...


def holding(store: LedgerStore) -> contextlib.AbstractContextManager[Any]:
    """``store.locked()`` when the store has one (both real stores do; test fakes may not)."""
    locked = getattr(store, "locked", None)
    return locked() if callable(locked) else contextlib.nullcontext()


def update_ledger(
    store: LedgerStore, change: Callable[[Ledger], Ledger], *, attempts: int = 2
) -> Ledger:
    """Load, apply ``change``, save; on a conflict reload and apply again (``attempts`` in all).

    Raises the last ``LedgerConflict`` when every attempt lost. The store is locked (file lock or
    blob lease) across the whole loop, so it never conflicts with a tick or another command.
    """
    with holding(store):
        for attempt in range(1, attempts + 1):
            ledger, version = store.load()
            changed = change(ledger)
            try:
                store.save(changed, version)
            except LedgerConflict:
                if attempt == attempts:
                    raise
                log.info("ledger %s changed while updating; retrying", where(store))
                continue
            return changed
    raise LedgerConflict(f"ledger {where(store)}: no attempt made")  # pragma: no cover


def where(store: LedgerStore) -> str:
    """A store's ``describe()`` (both stores here have one; test fakes may not)."""
    describe = getattr(store, "describe", None)
    return str(describe()) if callable(describe) else type(store).__name__


def _age(since: str | None) -> str:
    """``for 42 s`` from an ISO time, or ``for an unknown time``."""
    if not since:
        return "for an unknown time"
    try:
        started = datetime.fromisoformat(since)
    except ValueError:
        return "for an unknown time"
    seconds = max(0, int((datetime.now(UTC) - started).total_seconds()))
    return f"for {seconds} s"


# --- local file --------------------------------------------------------------------------------


class FileStore:
    """The ledger as a local JSON file (the CLI's and ``make demo``'s default)."""

    def __init__(self, path: str | os.PathLike[str], *, wait: float | None = None) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.wait = LOCK_WAIT if wait is None else wait
        self._lock_fd: int | None = None

    def describe(self) -> str:
        return str(self.path)

    @contextlib.contextmanager
    def locked(self) -> Iterator[FileStore]:
        """Hold the exclusive lock across load → save (re-entrant within this object)."""
        if self._lock_fd is not None:
            yield self
            return
        fd = self._acquire()
        self._lock_fd = fd
        try:
            self._remove_stale_temp_files()
            yield self
        finally:
            self._lock_fd = None
            self._release(fd)

    def load(self) -> tuple[Ledger, str | None]:
        data = self._read()
        if data is None:
            return Ledger.empty(), None
        return Ledger.from_json(data, source=f"ledger file {self.path}"), _digest(data)

    def save(self, ledger: Ledger, version: str | None) -> str:
        data = ledger.to_json().encode("utf-8")
        with self.locked():
            current = self._read()
            current_version = None if current is None else _digest(current)
            if current_version != version:
                raise LedgerConflict(
                    f"ledger file {self.path} was changed by another run since it was loaded"
                )
            try:
                self._write_atomically(data)
            except OSError as error:
                raise LedgerError(
                    f"cannot write ledger file {self.path}: {_os_reason(error)}"
                ) from None
        return _digest(data)

    def _read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise LedgerError(f"cannot read ledger file {self.path}: {_os_reason(error)}") from None

    def _temp_prefix(self) -> str:
        return f".{self.path.name}."

    def _write_atomically(self, data: bytes) -> None:
        directory = self.path.parent
        fd, temp_name = tempfile.mkstemp(prefix=self._temp_prefix(), suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            Path(temp_name).replace(self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temp_name).unlink()
            raise
        _fsync_directory(directory)

    def _remove_stale_temp_files(self) -> None:
        """Temp files of a run killed mid-write (only the lock holder writes, and we hold it)."""
        with contextlib.suppress(OSError):
            for stale in self.path.parent.glob(f"{self._temp_prefix()}*.tmp"):
                with contextlib.suppress(OSError):
                    stale.unlink()
                    log.info("removed %s, left by a run that was killed while saving", stale.name)

    def _acquire(self) -> int:
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise LedgerError(
                f"cannot create the ledger lock file {self.lock_path}: {_os_reason(error)}"
            ) from None
        deadline = time.monotonic() + self.wait
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LedgerBusy(
                            f"ledger file {self.path} is in use by another run "
                            f"({self._holder()}); gave up after waiting {self.wait:g} s"
                        ) from None
                    time.sleep(_POLL)
            with contextlib.suppress(OSError):  # who holds it, for a waiting run's message
                os.ftruncate(fd, 0)
                os.pwrite(
                    fd,
                    json.dumps(
                        {"pid": os.getpid(), "since": datetime.now(UTC).isoformat()}
                    ).encode(),
                    0,
                )
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _holder(self) -> str:
        try:
            info = json.loads(self.lock_path.read_text() or "{}")
        except (OSError, ValueError):
            info = {}
        if not isinstance(info, dict):
            info = {}
        pid = info.get("pid")
        return f"pid {pid}, holding it {_age(info.get('since'))}" if pid else "holder unknown"

    @staticmethod
    def _release(fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _os_reason(error: OSError) -> str:
    """``No space left on device (ENOSPC)``: the cause, without a path or a traceback."""
    name = errno.errorcode.get(error.errno or 0, "")
    text = error.strerror or type(error).__name__
    return f"{text} ({name})" if name else text


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - some filesystems do not open directories
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - and some cannot fsync them
        pass
    finally:
        os.close(fd)


# --- Azure Blob Storage ------------------------------------------------------------------------


# The SDK's default (3 retries waiting 15 s, 18 s, 24 s, timeouts of 20 s and 60 s) held a tick
# for 88 s when storage did not answer; a timer that runs every few minutes should fail sooner
# and try again next tick. Short back-offs, two retries, and per-call timeouts.
CLIENT_OPTIONS: dict[str, Any] = {
    "retry_total": 2,
    "initial_backoff": 1,
    "increment_base": 2,
    "random_jitter_range": 1,
    "connection_timeout": 5,
    "read_timeout": 15,
}
_HOLDER_KEY = "pullwatch_since"  # blob metadata: when the current lease holder took it


class BlobStore:
    """The ledger as one JSON blob, written with ``If-Match`` on its ETag, under a lease."""

    def __init__(
        self,
        container_client: ContainerClient,
        blob: str,
        *,
        wait: float | None = None,
        lease_seconds: int = LEASE_SECONDS,
    ) -> None:
        if not 15 <= lease_seconds <= 60:
            raise ValueError("a blob lease lasts 15 to 60 seconds")
        self._container = container_client
        self._blob = container_client.get_blob_client(blob)
        self.container = str(container_client.container_name)
        self.blob = blob
        self.wait = LOCK_WAIT if wait is None else wait
        self.lease_seconds = lease_seconds
        self._lease: BlobLeaseClient | None = None
        self._metadata: dict[str, str] = {}
        self._renewer: _LeaseRenewer | None = None

    @classmethod
    def from_connection_string(
        cls, connection_string: str, container: str, blob: str, **client_options: Any
    ) -> BlobStore:
        """For local use and Azurite. ``client_options`` go to ``ContainerClient`` (retries,
        timeouts; see ``CLIENT_OPTIONS`` for the defaults)."""
        from azure.storage.blob import ContainerClient

        store_options = {
            k: client_options.pop(k) for k in ("wait", "lease_seconds") if k in client_options
        }
        options = {**CLIENT_OPTIONS, **client_options}
        try:
            client = ContainerClient.from_connection_string(connection_string, container, **options)
        except ValueError:
            raise LedgerError(
                "PULLWATCH_LEDGER_CONNECTION_STRING is not a valid storage connection string"
            ) from None
        return cls(client, blob, **store_options)

    @classmethod
    def from_account_url(
        cls,
        account_url: str,
        container: str,
        blob: str,
        credential: Any = None,
        **client_options: Any,
    ) -> BlobStore:
        """With the Function's identity (``DefaultAzureCredential``) unless ``credential`` is given."""
        from azure.storage.blob import ContainerClient

        if credential is None:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential(
                managed_identity_client_id=os.environ.get("AZURE_CLIENT_ID") or None
            )
        store_options = {
            k: client_options.pop(k) for k in ("wait", "lease_seconds") if k in client_options
        }
        options = {**CLIENT_OPTIONS, **client_options}
        return cls(
            ContainerClient(account_url, container, credential=credential, **options),
            blob,
            **store_options,
        )

    def describe(self) -> str:
        return f"blob {self.container}/{self.blob}"

    @contextlib.contextmanager
    def locked(self) -> Iterator[BlobStore]:
        """Hold a lease on the blob across load → last save (re-entrant within this object)."""
        if self._lease is not None:
            yield self
            return
        self._create_if_missing()
        lease = self._acquire_lease()
        self._lease = lease
        renewer = _LeaseRenewer(lease, self.lease_seconds / 3, self.describe())
        self._renewer = renewer
        try:
            yield self
        finally:
            renewer.stop()
            self._lease, self._renewer, self._metadata = None, None, {}
            try:
                lease.release()
            except Exception as error:  # it expires by itself within LEASE_SECONDS
                log.warning(
                    "could not release the lease on ledger %s (%s); it expires within %d s",
                    self.describe(),
                    type(error).__name__,
                    self.lease_seconds,
                )

    def load(self) -> tuple[Ledger, str | None]:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            downloader = self._blob.download_blob()
            data = downloader.readall()
            etag = downloader.properties.etag
        except ResourceNotFoundError:
            return Ledger.empty(), None
        except Exception as error:
            raise _storage_error("read", self.describe(), error) from None
        if not data:  # the empty blob the first run creates so that it can be leased
            return Ledger.empty(), str(etag)
        return Ledger.from_json(data, source=f"ledger {self.describe()}"), str(etag)

    def save(self, ledger: Ledger, version: str | None) -> str:
        from azure.core import MatchConditions
        from azure.core.exceptions import (
            ResourceExistsError,
            ResourceModifiedError,
            ResourceNotFoundError,
        )
        from azure.storage.blob import ContentSettings

        if self._renewer is not None and self._renewer.lost:
            raise LedgerError(
                f"lost the lease on ledger {self.describe()} (it could not be renewed); "
                "not saving so that another run's work is not overwritten"
            )
        data = ledger.to_json().encode("utf-8")
        settings = ContentSettings(content_type="application/json")
        leased: dict[str, Any] = (
            {"lease": self._lease, "metadata": self._metadata} if self._lease is not None else {}
        )
        try:
            if version is None:
                self._ensure_container()
                result = self._blob.upload_blob(
                    data, overwrite=False, content_settings=settings, **leased
                )
            else:
                result = self._blob.upload_blob(
                    data,
                    overwrite=True,
                    etag=version,
                    match_condition=MatchConditions.IfNotModified,
                    content_settings=settings,
                    **leased,
                )
        except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError):
            raise LedgerConflict(
                f"ledger {self.describe()} was changed by another writer since it was loaded"
            ) from None
        except Exception as error:
            if getattr(error, "status_code", None) == 412:
                code = str(getattr(error, "error_code", "") or "")
                if "lease" in code.lower():
                    raise LedgerError(
                        f"ledger {self.describe()} is leased by another run ({code}); not saved"
                    ) from None
                raise LedgerConflict(
                    f"ledger {self.describe()} was changed by another writer since it was loaded"
                ) from None
            raise _storage_error("write", self.describe(), error) from None
        return str(result["etag"])

    def _ensure_container(self) -> None:
        from azure.core.exceptions import ResourceExistsError

        try:
            self._container.create_container()
        except ResourceExistsError:
            pass
        except Exception as error:
            raise _storage_error("create the container of", self.describe(), error) from None

    def _create_if_missing(self) -> None:
        """A blob must exist to be leased: create it empty (create-only, so two first runs do
        not race)."""
        from azure.core.exceptions import ResourceExistsError

        try:
            if self._blob.exists():
                return
            self._ensure_container()
            self._blob.upload_blob(b"", overwrite=False)
        except ResourceExistsError:
            return
        except LedgerError:
            raise
        except Exception as error:
            raise _storage_error("create", self.describe(), error) from None

    def _acquire_lease(self) -> BlobLeaseClient:
        from azure.core.exceptions import HttpResponseError
        from azure.storage.blob import BlobLeaseClient

        deadline = time.monotonic() + self.wait
        while True:
            lease = BlobLeaseClient(self._blob)
            try:
                lease.acquire(lease_duration=self.lease_seconds)
            except HttpResponseError as error:
                if error.status_code != 409:
                    raise _storage_error("lease", self.describe(), error) from None
                if time.monotonic() >= deadline:
                    raise LedgerBusy(
                        f"ledger {self.describe()} is in use by another run "
                        f"(holding it {self._holder_age()}); gave up after waiting "
                        f"{self.wait:g} s"
                    ) from None
                time.sleep(_POLL)
                continue
            except Exception as error:
                raise _storage_error("lease", self.describe(), error) from None
            self._metadata = {_HOLDER_KEY: datetime.now(UTC).isoformat()}
            try:
                self._blob.set_blob_metadata(self._metadata, lease=lease)
            except Exception as error:
                with contextlib.suppress(Exception):
                    lease.release()
                raise _storage_error("lease", self.describe(), error) from None
            return lease

    def _holder_age(self) -> str:
        try:
            metadata = self._blob.get_blob_properties().metadata or {}
        except Exception:
            return "for an unknown time"
        return _age(metadata.get(_HOLDER_KEY))


class _LeaseRenewer:
    """Renews a blob lease every ``interval`` seconds in a daemon thread until stopped."""

    def __init__(self, lease: BlobLeaseClient, interval: float, where: str) -> None:
        self.lost = False
        self._lease = lease
        self._interval = interval
        self._where = where
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ledger-lease", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        failures = 0
        while not self._stop.wait(self._interval):
            try:
                self._lease.renew()
                failures = 0
            except Exception as error:
                failures += 1
                log.warning(
                    "could not renew the lease on ledger %s (%s)",
                    self._where,
                    type(error).__name__,
                )
                if failures >= 2:  # two missed renewals: the lease has run out
                    self.lost = True
                    return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._interval + 1)


def _storage_error(verb: str, where: str, error: Exception) -> LedgerError:
    """A safe-to-print error: the status and error code, never a URL with a SAS or a key."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    if isinstance(error, ClientAuthenticationError):
        return LedgerError(
            f"cannot {verb} ledger {where}: not authenticated or not authorized (give the "
            "Function's identity 'Storage Blob Data Contributor' on the storage account)"
        )
    if isinstance(error, HttpResponseError):
        code = getattr(error, "error_code", None) or ""
        status = getattr(error, "status_code", None)
        if status == 403:
            return LedgerError(
                f"cannot {verb} ledger {where}: HTTP 403 {code} (give the Function's identity "
                "'Storage Blob Data Contributor' on the storage account)"
            )
        return LedgerError(f"cannot {verb} ledger {where}: HTTP {status} {code}".rstrip())
    if isinstance(error, ServiceRequestError | ServiceResponseError):
        return LedgerError(
            f"cannot {verb} ledger {where}: the storage endpoint did not answer "
            f"({type(error).__name__})"
        )
    return LedgerError(f"cannot {verb} ledger {where}: {type(error).__name__}")


def store_from_settings(settings: Settings, *, path: str | None = None) -> LedgerStore:
    """The configured store: ``path`` (a file) when given, else the blob when a connection
    string (preferred, local use) or an account URL (managed identity) is set, else the file
    at ``settings.ledger_path``."""
    if path:
        return FileStore(path)
    if settings.ledger_connection_string:
        return BlobStore.from_connection_string(
            settings.ledger_connection_string, settings.ledger_container, settings.ledger_blob
        )
    if settings.ledger_account_url:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential(
            managed_identity_client_id=settings.azure_client_id or None
        )
        return BlobStore.from_account_url(
            settings.ledger_account_url,
            settings.ledger_container,
            settings.ledger_blob,
            credential=credential,
        )
    return FileStore(settings.ledger_path)
