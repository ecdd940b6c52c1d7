"""Properties of classify(): total, closed over the cause table, never inventing facts, linear."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifiers import Cause, Confidence, classify, parse_reference

FRAGMENTS = [
    'Failed to pull image "',
    "someacr.azurecr.io/app:1",
    "nginx",
    '": rpc error: code = Unknown desc = ',
    "[rpc error: code = NotFound desc = ",
    ", rpc error: code = Unknown desc = ",
    "401 Unauthorized",
    "403 Forbidden",
    "lookup a.azurecr.io on 10.0.0.4:53: ",
    "no such host",
    "i/o timeout",
    "client with IP '1.2.3.4' is not allowed access",
    '{"errors":[{"code":"DENIED","message":"x"}]}',
    "status code 503",
    "context canceled",
    "EOF",
    "x509: ",
    "Image ",
    " not found in registry",
    "manifest for ",
    "reading manifest v1 in ",
    "denied",
    ": not found",
    "API error (500): ",
    "status code 403",
    "Failed to inspect image ",
    "docker://",
    "@sha256:" + "a" * 64,
    "“",
    "”",
    "'",
    '"',
    " ",
    "\x00",
    "\n",
]
messages = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=25).map("".join),
)
reasons = st.one_of(
    st.none(),
    st.sampled_from(["ImagePullUnauthorized", "BackOff", "InvalidImageName", ""]),
    st.text(max_size=20),
)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(message=messages, reason=reasons)
def test_classify_is_total_and_never_invents_facts(message: str, reason: str | None) -> None:
    diagnosis = classify(message, reason)
    assert isinstance(diagnosis.cause, Cause)
    assert isinstance(diagnosis.confidence, Confidence)
    assert diagnosis.title and diagnosis.summary and diagnosis.rule
    lowered = message.lower()
    for verbatim in (
        diagnosis.client_ip,
        diagnosis.dns_server,
        diagnosis.digest,
        diagnosis.identity,
    ):
        if verbatim is not None:
            assert verbatim in message
    if diagnosis.image is not None:  # as written, or podman's "<repository>:<tag>" put together
        composed = "reading manifest " in lowered and all(
            part in message for part in diagnosis.image.replace("@", ":").split(":", 1)
        )
        assert diagnosis.image in message or composed
    if diagnosis.http_status is not None:
        assert str(diagnosis.http_status) in message
    if diagnosis.registry is not None:  # Docker's default registry is the only addition
        assert diagnosis.registry in lowered or diagnosis.registry == "docker.io"
    if diagnosis.repository is not None:
        assert diagnosis.repository.split("/")[-1] in message
    if diagnosis.tag is not None:
        assert diagnosis.tag in message or diagnosis.tag == "latest"
    if diagnosis.image is None:
        assert diagnosis.repository is None and diagnosis.tag is None


@given(st.text(max_size=200))
def test_parse_reference_is_total(text: str) -> None:
    ref = parse_reference(text)
    if ref is not None:
        assert ref.repository and ref.registry


HOSTILE_1MB = {
    "repeated-lookup": "lookup " * 150_000,
    "repeated-image-marker": 'Failed to pull image "' * 50_000,
    "repeated-code": '"code":"' * 120_000,
    "joined-attempts": "[rpc error" + ", rpc error: code = " * 50_000,
    "no-spaces": "a" * 1_000_000,
    "digits": "111 " * 250_000,
    "control": "\x00\x1b[31m" * 200_000,
    "colons": "lookup a" + ":" * 1_000_000,
    "ips": "client with IP '" * 70_000,
    "denials": "denied: " * 120_000,
    "not-found": "image a not found: " * 50_000,
    "layers": ": " * 500_000,
    "statuses": "status code " * 80_000,
    "markers": "image " * 160_000,
    "lookups-on": "lookup a on " * 80_000,
    "codes-escaped": '\\"code\\":\\"' * 80_000,
    "podman-bullets": "2 errors occurred:" + "\n * " * 200_000,
}


@pytest.mark.parametrize("message", list(HOSTILE_1MB.values()), ids=list(HOSTILE_1MB))
def test_one_megabyte_hostile_line_is_linear(message: str) -> None:
    start = time.perf_counter()
    diagnosis = classify(message)
    elapsed = time.perf_counter() - start
    assert isinstance(diagnosis.cause, Cause)
    assert len(diagnosis.evidence) <= 250
    assert elapsed < 3.0, f"{elapsed:.2f}s for a 1 MB line: not linear"


def test_several_errors_in_one_message_pick_one_cause() -> None:
    """Specific phrases beat an HTTP status family; among phrases the table order decides."""
    message = "no such host; 403 Forbidden; 401 Unauthorized; manifest unknown"
    assert classify(message).cause is Cause.DNS_FAILURE
    firewall = "no such host; client with IP '1.2.3.4' is not allowed access"
    assert classify(firewall).cause is Cause.REGISTRY_FIREWALL


@pytest.mark.parametrize("message", ["", " ", "\n", "\x00", "🙂" * 100])
def test_empty_and_odd_input_is_unknown(message: str) -> None:
    diagnosis = classify(message)
    assert diagnosis.cause is Cause.UNKNOWN
    assert diagnosis.image is None


def test_evidence_has_no_control_characters() -> None:
    diagnosis = classify('Failed to pull image "a/b:1": \x1b[2J\x07 401 Unauthorized')
    assert diagnosis.evidence.isprintable()
