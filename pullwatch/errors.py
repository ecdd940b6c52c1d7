"""pullwatch's errors: one base class, a few subclasses, each safe to print.

    PullwatchError
    ├── SettingsError        a setting is missing or malformed (names the setting, never its secret value)
    ├── QueryError           Log Analytics refused or failed the query (names the workspace and status)
    ├── ExportError          an exported query result (a file) cannot be read
    └── LedgerError          the alert ledger cannot be used
        ├── LedgerCorrupt    the stored document is unreadable (never silently reset)
        ├── LedgerConflict   another writer saved first (optimistic concurrency lost)
        └── LedgerBusy       another run holds the ledger's lock or lease (names its age)

Delivery failures are `notifiers.errors.DeliveryError` (notifiers know nothing of pullwatch).
No message ever contains a webhook URL or a token.
"""

from __future__ import annotations


class PullwatchError(Exception):
    """Base class of every error pullwatch raises on purpose."""


class SettingsError(PullwatchError):
    """A setting is missing or malformed; the message names the setting."""


class QueryError(PullwatchError):
    """The log query failed; the message names the workspace and the HTTP status."""


class ExportError(PullwatchError):
    """An exported query result cannot be read (not JSON, wrong shape, a row without a time)."""


class LedgerError(PullwatchError):
    """The alert ledger cannot be loaded or saved."""


class LedgerCorrupt(LedgerError):
    """The stored ledger is unreadable; it is never silently replaced."""


class LedgerConflict(LedgerError):
    """Another writer saved the ledger since it was loaded."""


class LedgerBusy(LedgerError):
    """Another run holds the ledger (file lock or blob lease) longer than we may wait."""
