"""Where the ledger document lives: a local file or an Azure Storage blob. Does disk and network I/O.

Both stores implement ``LedgerStore``: ``load()`` returns the ledger and an opaque version
(``None`` when no document exists yet) and ``save(ledger, version)`` writes only if the stored
document is still that version (optimistic concurrency), else raises ``LedgerConflict``.
A document that cannot be read raises ``LedgerCorrupt``; it is never silently replaced.

- ``FileStore``: version = SHA-256 of the file's bytes. ``save`` holds an exclusive ``flock`` on
  ``<path>.lock`` while it checks the version and writes (temp file in the same directory,
  fsync, ``os.replace``, fsync of the directory), so a crash leaves the old file intact.
  ``with store.locked():`` holds the lock across load → save so two local runs never interleave.
- ``BlobStore``: one JSON blob; version = ETag; ``If-Match`` on save, create-only
  (``If-None-Match: *``) when there was no blob; the container is created if missing.

``update_ledger(store, change)`` is the load → change → save loop with one retry on a conflict.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pullwatch.errors import LedgerConflict, LedgerError
from pullwatch.ledger import Ledger

if TYPE_CHECKING:
    from azure.storage.blob import ContainerClient

    from pullwatch.settings import Settings

log = logging.getLogger(__name__)


class LedgerStore(Protocol):
    """Somewhere the ledger document is kept, with optimistic concurrency."""

    def load(self) -> tuple[Ledger, str | None]:
        """The stored ledger and its version; an empty ledger and ``None`` when there is none."""
        ...

    def save(self, ledger: Ledger, version: str | None) -> str:
        """Write ``ledger`` if the stored version is still ``version`` (``None``: must not exist
        yet); return the new version. Raises ``LedgerConflict`` otherwise."""
        ...


def update_ledger(
    store: LedgerStore, change: Callable[[Ledger], Ledger], *, attempts: int = 2
) -> Ledger:
    """Load, apply ``change``, save; on a conflict reload and apply again (``attempts`` in all).

    Raises the last ``LedgerConflict`` when every attempt lost. A ``FileStore`` is locked across
    the whole loop, so it never conflicts with another local run.
    """
    lock = store.locked() if isinstance(store, FileStore) else contextlib.nullcontext()
    with lock:
        for attempt in range(1, attempts + 1):
            ledger, version = store.load()
            changed = change(ledger)
            try:
                store.save(changed, version)
            except LedgerConflict:
                if attempt == attempts:
                    raise
                log.info("ledger %s changed while updating; retrying", _where(store))
                continue
            return changed
    raise LedgerConflict(f"ledger {_where(store)}: no attempt made")  # pragma: no cover


def _where(store: LedgerStore) -> str:
    """A store's ``describe()`` (both stores here have one; test fakes may not)."""
    describe = getattr(store, "describe", None)
    return str(describe()) if callable(describe) else type(store).__name__


# --- local file --------------------------------------------------------------------------------


class FileStore:
    """The ledger as a local JSON file (the CLI's and ``make demo``'s default)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
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
            self._write_atomically(data)
        return _digest(data)

    def _read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise LedgerError(f"cannot read ledger file {self.path}: {error.strerror}") from None

    def _write_atomically(self, data: bytes) -> None:
        directory = self.path.parent
        fd, temp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
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

    def _acquire(self) -> int:
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise LedgerError(
                f"cannot create the ledger lock file {self.lock_path}: {error.strerror}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        return fd

    @staticmethod
    def _release(fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


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


# The SDK's default (10 retries with back-off) can hold a tick for minutes when storage is
# unreachable; a timer that runs every few minutes should fail sooner and try again next tick.
CLIENT_OPTIONS: dict[str, Any] = {"retry_total": 3, "connection_timeout": 10, "read_timeout": 30}


class BlobStore:
    """The ledger as one JSON blob, written with ``If-Match`` on its ETag."""

    def __init__(self, container_client: ContainerClient, blob: str) -> None:
        self._container = container_client
        self._blob = container_client.get_blob_client(blob)
        self.container = str(container_client.container_name)
        self.blob = blob

    @classmethod
    def from_connection_string(
        cls, connection_string: str, container: str, blob: str, **client_options: Any
    ) -> BlobStore:
        """For local use and Azurite. ``client_options`` go to ``ContainerClient`` (retries,
        timeouts; see ``CLIENT_OPTIONS`` for the defaults)."""
        from azure.storage.blob import ContainerClient

        options = {**CLIENT_OPTIONS, **client_options}
        try:
            client = ContainerClient.from_connection_string(connection_string, container, **options)
        except ValueError:
            raise LedgerError(
                "PULLWATCH_LEDGER_CONNECTION_STRING is not a valid storage connection string"
            ) from None
        return cls(client, blob)

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
        options = {**CLIENT_OPTIONS, **client_options}
        return cls(ContainerClient(account_url, container, credential=credential, **options), blob)

    def describe(self) -> str:
        return f"blob {self.container}/{self.blob}"

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
        return Ledger.from_json(data, source=f"ledger {self.describe()}"), str(etag)

    def save(self, ledger: Ledger, version: str | None) -> str:
        from azure.core import MatchConditions
        from azure.core.exceptions import (
            ResourceExistsError,
            ResourceModifiedError,
            ResourceNotFoundError,
        )
        from azure.storage.blob import ContentSettings

        data = ledger.to_json().encode("utf-8")
        settings = ContentSettings(content_type="application/json")
        try:
            if version is None:
                self._ensure_container()
                result = self._blob.upload_blob(data, overwrite=False, content_settings=settings)
            else:
                result = self._blob.upload_blob(
                    data,
                    overwrite=True,
                    etag=version,
                    match_condition=MatchConditions.IfNotModified,
                    content_settings=settings,
                )
        except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError):
            raise LedgerConflict(
                f"ledger {self.describe()} was changed by another writer since it was loaded"
            ) from None
        except Exception as error:
            if getattr(error, "status_code", None) == 412:
                raise LedgerConflict(
                    f"ledger {self.describe()} was changed by another writer since it was loaded"
                ) from None
            raise _storage_error("write", self.describe(), error) from None
        return str(result["etag"])

    def _ensure_container(self) -> None:
        from azure.core.exceptions import ResourceExistsError

        with contextlib.suppress(ResourceExistsError):
            self._container.create_container()


def _storage_error(verb: str, where: str, error: Exception) -> LedgerError:
    """A safe-to-print error: the status and error code, never a URL with a SAS or a key."""
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

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
