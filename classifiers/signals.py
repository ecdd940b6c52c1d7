"""Which system-log rows are image-pull failures, back-offs, successes or pulls, and what they name.

These term lists are the single source for the Log Analytics filter (``pullwatch.fetch.logquery``
builds its KQL from them), the file source's row filter and the classifier's generic
``unknown`` rules. Matching is case-insensitive substring matching (KQL ``contains``).

A row is one of four kinds (``row_kind``), checked in this order:

* ``backoff``: the kubelet waiting before it tries again (``Back-off pulling image ...``,
  ``Error: ImagePullBackOff``, ``Error: ErrImagePull``). The revision is still failing, but no
  pull was attempted: back-off rows never count as pull attempts.
* ``failure``: a pull attempt that failed (``Failed to pull image ...: <error>``,
  ``Persistent Image Pull Errors ...``, ``reason 'ImagePullFailure'``, the Reason values below).
* ``success``: an image was pulled or a container started (evidence of recovery for the image
  or container the row names, see ``pullwatch.decide.observe``).
* ``pulling``: ``Pulling image '<ref>'``: no verdict, but it tells which image a revision pulls
  (a failure line such as ``Container pull image failed with unauthorized error.`` names none).
"""

from __future__ import annotations

import re

# Log text that says an image pull failed (without necessarily saying why).
FAILURE_LOG_TERMS: tuple[str, ...] = (
    "Failed to pull image",
    "Persistent Image Pull Errors",
    "ImagePullBackOff",
    "ErrImagePull",
    "ImagePullFailure",
    "pull image failed",
    "Back-off pulling image",
)
# Reason column values that always mean an image pull failed.
FAILURE_REASONS: tuple[str, ...] = (
    "ImagePullUnauthorized",
    "ImagePullFailed",
    "ImagePullFailure",
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
)
# Reason values that mean a pull failed only when the log text is about an image
# ("BackOff" is also used for crash loops: "Back-off restarting failed container").
FAILURE_REASONS_IF_IMAGE: tuple[str, ...] = ("BackOff",)
IMAGE_WORD = "image"
# Failure rows that are the kubelet's back-off, not a pull attempt (kubelet's event texts).
BACKOFF_LOG_TERMS: tuple[str, ...] = (
    "Back-off pulling image",
    "Error: ImagePullBackOff",
    "Error: ErrImagePull",
)

# Evidence that a revision's image was pulled or its container started.
SUCCESS_LOG_TERMS: tuple[str, ...] = ("Successfully pulled image",)
SUCCESS_REASONS: tuple[str, ...] = ("PulledImage", "ContainerStarted")
# A pull starting: which image the revision pulls (no verdict).
PULLING_LOG_TERMS: tuple[str, ...] = ("Pulling image",)
PULLING_REASONS: tuple[str, ...] = ("PullingImage",)

# The kinds row_kind returns (the query's Signal column has the same values).
BACKOFF, FAILURE, SUCCESS, PULLING = "backoff", "failure", "success", "pulling"

_FAILURE_TERMS_LOWER = tuple(term.lower() for term in FAILURE_LOG_TERMS)
_BACKOFF_TERMS_LOWER = tuple(term.lower() for term in BACKOFF_LOG_TERMS)
_SUCCESS_TERMS_LOWER = tuple(term.lower() for term in SUCCESS_LOG_TERMS)
_PULLING_TERMS_LOWER = tuple(term.lower() for term in PULLING_LOG_TERMS)
_FAILURE_REASONS_LOWER = frozenset(reason.lower() for reason in FAILURE_REASONS)
_IF_IMAGE_LOWER = frozenset(reason.lower() for reason in FAILURE_REASONS_IF_IMAGE)
_SUCCESS_REASONS_LOWER = frozenset(reason.lower() for reason in SUCCESS_REASONS)
_PULLING_REASONS_LOWER = frozenset(reason.lower() for reason in PULLING_REASONS)


def _terms(terms: tuple[str, ...]) -> re.Pattern[str]:
    """One search for any of ``terms`` in lower-cased text."""
    return re.compile("|".join(re.escape(term) for term in terms))


_FAILURE_SEARCH = _terms(_FAILURE_TERMS_LOWER)
_BACKOFF_SEARCH = _terms(_BACKOFF_TERMS_LOWER)
_SUCCESS_SEARCH = _terms(_SUCCESS_TERMS_LOWER)
_PULLING_SEARCH = _terms(_PULLING_TERMS_LOWER)


def _failed(text: str, why: str) -> bool:
    """The failure test on lower-cased log text and reason."""
    return (
        why in _FAILURE_REASONS_LOWER
        or (why in _IF_IMAGE_LOWER and IMAGE_WORD in text)
        or _FAILURE_SEARCH.search(text) is not None
    )


def is_failure_row(log: str, reason: str | None) -> bool:
    """True when a row (Log text, Reason) reports a failed image pull (back-offs included)."""
    return _failed(log.lower(), reason.lower() if reason else "")


def is_success_row(log: str, reason: str | None) -> bool:
    """True when a row shows the image was pulled or the container started (and is no failure)."""
    return row_kind(log, reason) == SUCCESS


def row_kind(log: str, reason: str | None) -> str | None:
    """``backoff``, ``failure``, ``success``, ``pulling`` or None (the row says nothing here),
    in one pass over the row (a file source calls it for every row)."""
    text = log.lower()
    why = reason.lower() if reason else ""
    if _failed(text, why):
        return BACKOFF if _BACKOFF_SEARCH.search(text) else FAILURE
    if why in _SUCCESS_REASONS_LOWER or _SUCCESS_SEARCH.search(text):
        return SUCCESS
    if why in _PULLING_REASONS_LOWER or _PULLING_SEARCH.search(text):
        return PULLING
    return None


# What success and pulling rows name. containerd and kubelet quote the reference with ' or ".
_NAMED_IMAGE = re.compile(
    r"""(?i)\b(?:pulling|pulled)\s+image\s+(?:\\?["'])?([^\s"'\\]+)""",
)
_NAMED_CONTAINER = re.compile(
    r"""(?i)\b(?:started\s+container|created\s+container|container)\s+(?:\\?["'])([^"'\\\s]{1,253})(?:\\?["'])""",
)


def named_image(log: str) -> str:
    """The image a ``Pulling image '<ref>'`` / ``Successfully pulled image "<ref>"`` row names."""
    match = _NAMED_IMAGE.search(log[:4000])
    return match.group(1) if match else ""


def named_container(log: str) -> str:
    """The container a row names in quotes (``Started container 'api'``,
    ``Container 'api' was terminated ...``), else ``""``."""
    match = _NAMED_CONTAINER.search(log[:4000])
    return match.group(1) if match else ""
