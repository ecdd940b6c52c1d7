"""The Azure Resource Graph client: one query, all its pages, within a deadline. Network I/O.

``POST {arm}/providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01`` with
``{"query", "options": {"$top", "$skipToken", "resultFormat": "objectArray"}}`` (and
``subscriptions`` when given; without them Resource Graph reads every subscription the identity
can see); the answer holds ``data`` (the rows) and ``$skipToken`` while more pages follow
(platform-facts §9). Requests go through azure-core's pipeline (bearer token for
``{arm}/.default``, user agent, request ids) on the Function's credential; the Azure SDK package
``azure-mgmt-resourcegraph`` is not needed for one POST.

Every wait is bounded by the caller's deadline (``time.monotonic()`` seconds): each request's
connection and read timeouts, and the sleeps between retries (429 with ``Retry-After``, 5xx,
connection errors; at most ``RETRIES`` retries). Every failure becomes ``VerifyError`` whose
message is safe to show in an alert (status, error code, never a token).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from azure.core import PipelineClient
from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.pipeline.policies import (
    BearerTokenCredentialPolicy,
    HeadersPolicy,
    RequestIdPolicy,
    UserAgentPolicy,
)
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest import HttpRequest

from pullwatch.errors import PullwatchError

API_VERSION = "2022-10-01"
PAGE_SIZE = 1000
MAX_PAGES = 20
RETRIES = 2
BACKOFF = 0.5  # seconds, doubled per retry (Retry-After wins when the service sends one)
_RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})


class VerifyError(PullwatchError):
    """The configuration could not be read; the message says why and is safe to show."""


class ResourceGraphClient:
    """Runs Resource Graph queries for pullwatch (``query`` returns every row of every page)."""

    def __init__(
        self,
        endpoint: str,
        credential: TokenCredential,
        *,
        transport: HttpTransport[Any, Any] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._https = urlsplit(self.endpoint).scheme == "https"
        self._sleep = sleep
        self._clock = clock
        policies = [
            RequestIdPolicy(),
            HeadersPolicy({"Accept": "application/json"}),
            UserAgentPolicy("pullwatch-verify"),
            BearerTokenCredentialPolicy(credential, f"{self.endpoint}/.default"),
        ]
        self._client: PipelineClient[Any, Any] = PipelineClient(
            self.endpoint, policies=policies, transport=transport
        )

    def close(self) -> None:
        self._client.close()

    def query(
        self, query: str, *, deadline: float, subscriptions: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """All rows of ``query`` (``VerifyError`` on any failure or when ``deadline`` passes)."""
        rows: list[dict[str, Any]] = []
        token: str | None = None
        for _ in range(MAX_PAGES):
            options: dict[str, Any] = {"$top": PAGE_SIZE, "resultFormat": "objectArray"}
            if token:
                options["$skipToken"] = token
            body: dict[str, Any] = {"query": query, "options": options}
            if subscriptions:
                body["subscriptions"] = list(subscriptions)
            answer = self._post(body, deadline)
            data = answer.get("data")
            if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
                raise VerifyError("Resource Graph's answer has no 'data' array of rows")
            rows.extend(data)
            token = answer.get("$skipToken") or None
            if not token:
                return rows
        raise VerifyError(f"Resource Graph's answer has more than {MAX_PAGES} pages")

    def _post(self, body: Mapping[str, Any], deadline: float) -> Mapping[str, Any]:
        url = (
            f"{self.endpoint}/providers/Microsoft.ResourceGraph/resources?api-version={API_VERSION}"
        )
        delay = BACKOFF
        for attempt in range(RETRIES + 1):
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise _timeout()
            request = HttpRequest("POST", url, json=body)
            try:
                response = self._client.send_request(
                    request,
                    stream=False,
                    enforce_https=self._https,
                    connection_timeout=max(0.1, min(remaining, 10.0)),
                    read_timeout=max(0.1, remaining),
                )
            except ClientAuthenticationError as error:
                raise VerifyError(f"no token for Resource Graph ({_short(error)})") from None
            except (ServiceRequestError, ServiceResponseError) as error:
                if attempt < RETRIES and self._wait(delay, deadline):
                    delay *= 2
                    continue
                if deadline - self._clock() <= 0:
                    raise _timeout() from None
                raise VerifyError(
                    f"cannot reach Resource Graph at {urlsplit(self.endpoint).netloc} "
                    f"({type(error).__name__})"
                ) from None
            except AzureError as error:
                raise VerifyError(f"Resource Graph request failed ({_short(error)})") from None
            status = response.status_code
            if status in _RETRYABLE and attempt < RETRIES:
                wait = _retry_after(response.headers.get("Retry-After")) or delay
                if self._wait(wait, deadline):
                    delay *= 2
                    continue
                raise _timeout()
            text = response.text()
            if status != 200:
                raise VerifyError(_refusal(status, text))
            try:
                answer = json.loads(text)
            except ValueError:
                raise VerifyError("Resource Graph's answer is not JSON") from None
            if not isinstance(answer, dict):
                raise VerifyError("Resource Graph's answer is not a JSON object")
            return answer
        raise _timeout()  # pragma: no cover - the loop always returns or raises

    def _wait(self, seconds: float, deadline: float) -> bool:
        """Sleep ``seconds`` if that ends before ``deadline``; False when it would not."""
        if self._clock() + seconds >= deadline:
            return False
        self._sleep(seconds)
        return True


def _timeout() -> VerifyError:
    return VerifyError("Resource Graph did not answer within the time budget")


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _short(error: Exception) -> str:
    text = str(getattr(error, "message", None) or error).splitlines()[0] if str(error) else ""
    return (text or type(error).__name__)[:160]


def _refusal(status: int, text: str) -> str:
    code = message = ""
    try:
        error = json.loads(text).get("error", {})
        code, message = str(error.get("code", "")), str(error.get("message", ""))
    except (ValueError, AttributeError):
        pass
    detail = f" {code}" if code else ""
    if status == 403:
        return (
            f"pullwatch's identity may not read Resource Graph (403{detail}): give it Reader on "
            "the resource groups of the apps and registries (infra parameter verifyScopes)"
        )
    if status == 401:
        return f"Resource Graph refused pullwatch's token (401{detail})"
    if status == 429:
        return "Resource Graph is throttling pullwatch (429); the next alert checks again"
    if status == 400:
        return f"Resource Graph rejected the query (400{detail}: {message[:200]})"
    return f"Resource Graph answered {status}{detail}"
