"""A part's failure as an error class: a short label that is safe to keep in the ledger and to
show in a message (``HTTP 404``, ``timeout``, ``ENOSPC``). Pure.

The inputs are pullwatch's own safe-to-print error texts (``DeliveryError``, ``QueryError``,
``LedgerError`` messages); only a fixed label or a status number is taken from them, never
their text, so nothing a service echoed (or a host name, or a path) reaches the health record.
"""

from __future__ import annotations

import re

from pullwatch.errors import LedgerBusy, LedgerConflict

_STATUS = re.compile(r"\bHTTP (\d{3})\b")
_NOT_SUCCESS = re.compile(r"\bHTTP (2\d\d) was not a success\b")
_FAILED_WITH = re.compile(r"\b(rendering|sending|request) failed \(([A-Za-z_][\w.]{0,60})\)")
_ERRNO = re.compile(r"\((E[A-Z0-9]{2,15})\)")

NO_ROWS = "no system logs"  # the log pipeline's failure: no rows arrive


def delivery_error_class(text: str) -> str:
    """The class of a channel's failure, from a ``DeliveryError`` text or the dispatch stage's
    ``rendering failed (KeyError)`` / ``sending failed (...)`` notes."""
    if match := _FAILED_WITH.search(text):
        return f"{match.group(1)} failed ({match.group(2)})"
    if match := _NOT_SUCCESS.search(text):
        return f"HTTP {match.group(1)} with an error in the answer"
    statuses = _STATUS.findall(text)
    if statuses:
        return f"HTTP {statuses[-1]}"  # after retries, the last answer counts
    for marker, label in (
        ("TLS", "TLS"),
        ("timed out", "timeout"),
        ("connection failed", "connection failed"),
    ):
        if marker in text:
            return label
    return "error"


def query_error_class(text: str) -> str:
    """The class of a workspace's failure, from a ``QueryError`` text (or any error text the
    log source reports for one workspace)."""
    if match := _STATUS.search(text):
        return f"HTTP {match.group(1)}"
    lowered = text.lower()
    if "token" in lowered or "credential" in lowered:
        return "no token"
    if "no answer" in lowered or "timed out" in lowered or "timeout" in lowered:
        return "no answer"
    return "error"


def ledger_error_class(error: Exception) -> str:
    """The class of a ledger failure: ``conflict``, ``busy``, ``HTTP 403``, ``ENOSPC``, ..."""
    if isinstance(error, LedgerConflict):
        return "conflict"
    if isinstance(error, LedgerBusy):
        return "busy"
    text = str(error)
    if match := _STATUS.search(text):
        return f"HTTP {match.group(1)}"
    if match := _ERRNO.search(text):
        return match.group(1)
    if "did not answer" in text:
        return "no answer"
    if "not authenticated" in text:
        return "not authorized"
    return type(error).__name__
