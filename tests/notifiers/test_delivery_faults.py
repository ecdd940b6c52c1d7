"""Delivery against misbehaving local servers on real sockets: TLS, redirects, error bodies,
read timeouts after the body was sent, and an answer trickled one header byte at a time."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
import requests

from notifiers import Delivery, DeliveryError, RetryPolicy, SlackNotifier, TeamsNotifier, WebhookURL
from tests.fakes.tls import Certificates, make_certificates, server_context
from tests.fakes.webhooks import HANG, TEAMS, Answer, ChatServer, Raw, Slow, Trickle
from tests.notifiers.conftest import FAST, assert_secret_free

PAYLOAD = {"type": "message", "attachments": [], "note": "ünïcode ✓"}
PATH = "/workflows/SECRETPATH/triggers/manual/paths/invoke"
QUERY = "?api-version=2016-06-01&sig=SECRETSIG"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    with ChatServer() as server:
        yield server


@pytest.fixture
def trusted(certificates: Certificates) -> Iterator[ChatServer]:
    """An https server whose certificate the test's session trusts (signed by the test CA)."""
    with ChatServer(tls=server_context(certificates.trusted)) as server:
        yield server


def trusting(certificates: Certificates, policy: RetryPolicy = FAST) -> Delivery:
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would win over verify
    session.verify = str(certificates.ca_file)
    return Delivery(policy, session=session)


def teams(server: ChatServer, delivery: Delivery, path: str = PATH) -> TeamsNotifier:
    return TeamsNotifier(WebhookURL(server.url(path) + QUERY), "teams-1", delivery=delivery)


def refusal(notifier: TeamsNotifier | SlackNotifier) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        notifier.send(PAYLOAD)
    assert_secret_free(caught.value)
    return caught.value


# --- TLS ---------------------------------------------------------------------------------------


def test_an_untrusted_certificate_says_tls_not_connection_failed(
    certificates: Certificates,
) -> None:
    with ChatServer(tls=server_context(certificates.self_signed)) as server:
        server.set(PATH, TEAMS)
        started = time.monotonic()
        error = refusal(teams(server, Delivery(FAST)))
    assert "TLS (certificate problem)" in str(error) and "connection failed" not in str(error)
    assert error.retryable is True  # a certificate gets fixed: the alert stays owed
    assert time.monotonic() - started < 1.0  # not retried within the post: it will not change


def test_a_trusted_certificate_delivers(certificates: Certificates, trusted: ChatServer) -> None:
    trusted.set(PATH, TEAMS)
    teams(trusted, trusting(certificates)).send(PAYLOAD)
    assert len(trusted.bodies(PATH)) == 1


# --- redirects ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [307, 308])
def test_a_307_or_308_to_https_is_followed_once(
    certificates: Certificates,
    trusted: ChatServer,
    chat: ChatServer,
    status: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    target = trusted.set("/moved/SECRETNEW", TEAMS)
    chat.set(PATH, Answer(status, "", (("Location", trusted.url(target) + "?sig=SECRETNEWSIG"),)))
    teams(chat, trusting(certificates)).send(PAYLOAD)
    assert len(chat.bodies(PATH)) == 1
    (moved,) = trusted.bodies(target)
    assert moved.json() == PAYLOAD  # the same body, re-posted
    assert "SECRETNEW" not in caplog.text  # the Location is a secret too


@pytest.mark.parametrize(
    ("status", "location", "why"),
    [
        (307, "http://127.0.0.1:1/SECRETPLAIN", "not https"),
        (308, "ftp://127.0.0.1/SECRETFTP", "not https"),
        (302, "https://127.0.0.1:1/SECRETFOUND", "302"),
        (301, "https://127.0.0.1:1/SECRETMOVED", "301"),
        (307, "", "no Location"),
    ],
)
def test_other_redirects_are_refused_without_showing_the_location(
    chat: ChatServer, status: int, location: str, why: str
) -> None:
    headers = (("Location", location),) if location else ()
    chat.set(PATH, Answer(status, f"moved to {location}", headers))
    error = refusal(teams(chat, Delivery(FAST)))
    assert error.retryable is False and error.status == status
    assert f"HTTP {status}" in str(error) and "127.0.0.1:1" not in str(error)
    assert len(chat.bodies(PATH)) == 1


def test_a_second_redirect_is_not_followed(
    certificates: Certificates, trusted: ChatServer, chat: ChatServer
) -> None:
    again = trusted.set("/again/SECRETAGAIN", TEAMS)
    first = trusted.set("/first/SECRETFIRST", Answer(308, "", (("Location", trusted.url(again)),)))
    chat.set(PATH, Answer(307, "", (("Location", trusted.url(first)),)))
    error = refusal(teams(chat, trusting(certificates)))
    assert error.retryable is False and error.status == 308
    assert len(trusted.bodies(first)) == 1 and trusted.bodies(again) == []


# --- Teams success rule ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        '{"error": {"code": "WorkflowTriggerIsNotEnabled", "message": "The workflow is disabled"}}',
        "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP "
        "error 413 with ContextId tcid=0,server=msgapi-production-eus-azsc2-4-170",
    ],
)
def test_teams_200_with_an_error_body_is_a_failure(chat: ChatServer, body: str) -> None:
    chat.set(PATH, Answer(200, body))
    error = refusal(teams(chat, Delivery(FAST)))
    assert error.status == 200 and "not a success" in str(error)
    assert len(chat.bodies(PATH)) == 1


@pytest.mark.parametrize(("status", "body"), [(202, ""), (200, ""), (200, "1"), (202, "{}")])
def test_teams_2xx_without_an_error_is_a_success(chat: ChatServer, status: int, body: str) -> None:
    chat.set(PATH, Answer(status, body))
    teams(chat, Delivery(FAST)).send(PAYLOAD)


def test_headers_that_do_not_parse_log_no_url_and_no_traceback(chat: ChatServer) -> None:
    """urllib3 warns about them with the whole URL and a traceback. Its records are caught on
    its own logger (after the logger's filters), not through caplog, whose handler a test that
    ran ``main()`` may have given a filter that hides urllib3 warnings."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("urllib3.connection")
    logger.addHandler(handler)
    try:
        chat.set(PATH, Raw(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nno colon here\r\n\r\n"))
        teams(chat, Delivery(FAST)).send(PAYLOAD)
    finally:
        logger.removeHandler(handler)
    parsing = [r for r in records if "parse headers" in r.getMessage()]
    assert parsing, [r.getMessage() for r in records]
    for record in parsing:
        assert record.exc_info is None and "127.0.0.1" not in record.getMessage()
        assert "SECRET" not in record.getMessage()


# --- read timeouts after the body was sent ---------------------------------------------------


def test_a_read_timeout_is_maybe_delivered_and_retried_once_at_most(chat: ChatServer) -> None:
    chat.set(PATH, Slow(5.0))
    policy = RetryPolicy(read_timeout=0.3, budget=4.0, base_backoff=0.01, max_attempts=10)
    started = time.monotonic()
    error = refusal(teams(chat, Delivery(policy)))
    assert error.retryable is True and "timed out" in str(error)
    assert len(chat.bodies(PATH)) == 2  # the body went out twice, never more
    assert time.monotonic() - started < 2.0


def test_a_connect_failure_is_still_retried_within_the_budget(chat: ChatServer) -> None:
    closed = ChatServer().start()
    url = WebhookURL(closed.url(PATH) + QUERY)
    closed.stop()
    attempts: list[float] = []
    delivery = Delivery(
        RetryPolicy(base_backoff=0.0, max_attempts=4, budget=4.0), sleep=attempts.append
    )
    error = refusal(TeamsNotifier(url, "teams-1", delivery=delivery))
    assert "connection failed" in str(error) and len(attempts) == 3  # nothing was sent


# --- a total time per request ------------------------------------------------------------------


@pytest.mark.parametrize("behaviour", [Trickle(interval=0.05), HANG], ids=["trickle", "hang"])
def test_connect_and_read_are_one_total_per_request(
    chat: ChatServer, behaviour: Trickle | object
) -> None:
    """A server that trickles its headers (15 s here) resets a per-read timeout on every byte;
    the request still ends when connect + read timeout are used up."""
    chat.set(PATH, behaviour)  # type: ignore[arg-type]
    policy = RetryPolicy(
        connect_timeout=0.5, read_timeout=0.5, budget=20.0, base_backoff=0.01, max_attempts=5
    )
    started = time.monotonic()
    error = refusal(teams(chat, Delivery(policy)))
    elapsed = time.monotonic() - started
    assert error.retryable is True and "timed out" in str(error)
    assert elapsed < 2 * (0.5 + 0.5) + 0.8  # two tries (maybe delivered), each 1 s at most
    assert len(chat.bodies(PATH)) == 2


def test_the_deadline_cuts_a_trickling_answer_short(chat: ChatServer) -> None:
    chat.set(PATH, Trickle(interval=0.05))
    policy = RetryPolicy(connect_timeout=5, read_timeout=15, budget=60.0, base_backoff=0.01)
    started = time.monotonic()
    with pytest.raises(DeliveryError):
        teams(chat, Delivery(policy)).send(PAYLOAD, deadline=time.monotonic() + 1.0)
    assert time.monotonic() - started < 1.5


# --- 408 is not a refusal ------------------------------------------------------------------------


def test_a_408_is_retried_like_a_5xx_not_refused(chat: ChatServer) -> None:
    chat.set(PATH, Answer(408, "request timeout"))
    delivery = Delivery(RetryPolicy(base_backoff=0.0, max_attempts=3, budget=4.0))
    error = refusal(teams(chat, delivery))
    assert error.retryable is True and error.status == 408
    assert len(chat.bodies(PATH)) == 3
