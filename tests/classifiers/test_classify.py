"""classify(): the seed guide verbatim, variants for every cause, and the precedence rules."""

from __future__ import annotations

import re

import pytest

from classifiers import CATALOG, Cause, Confidence, classify
from tests.classifiers.corpus import SEED_GUIDE
from tests.classifiers.seed_cases import SEED_CASES
from tests.classifiers.variant_cases import VARIANTS


@pytest.mark.parametrize(
    ("message", "image", "cause"),
    [pytest.param(m, i, c, id=case_id) for case_id, m, i, c in SEED_CASES],
)
def test_seed_guide_message(message: str, image: str | None, cause: str) -> None:
    diagnosis = classify(message)
    assert diagnosis.cause.value == cause, diagnosis.evidence
    assert diagnosis.image == image


def test_every_error_block_of_the_seed_guide_is_a_case() -> None:
    """No message in the guide (copied into tests/classifiers/data) is left out of SEED_CASES."""
    text = SEED_GUIDE.read_text(encoding="utf-8")
    blocks = [b.strip() for b in re.findall(r"```\n(.*?)\n\s*```", text, re.S)]
    messages = [b for b in blocks if not b.startswith("ContainerAppSystemLogs_CL")]
    covered = {m for _, m, _, _ in SEED_CASES}
    missing = [m[:80] for m in messages if m not in covered]
    assert len(messages) >= 15
    assert missing == []


@pytest.mark.parametrize(
    ("message", "reason", "cause", "facts"),
    [pytest.param(m, r, c, f, id=case_id) for case_id, m, r, c, f in VARIANTS],
)
def test_variant(message: str, reason: str | None, cause: str, facts: dict[str, object]) -> None:
    diagnosis = classify(message, reason)
    assert diagnosis.cause.value == cause, diagnosis.evidence
    for name, value in facts.items():
        assert getattr(diagnosis, name) == value, name


def test_every_cause_has_two_test_messages() -> None:
    seen: dict[str, int] = {}
    for _, _, _, cause in SEED_CASES:
        seen[cause] = seen.get(cause, 0) + 1
    for _, _, _, cause, _ in VARIANTS:
        seen[cause] = seen.get(cause, 0) + 1
    assert {c.value for c in Cause} <= set(seen)
    assert all(count >= 2 for count in seen.values()), seen


class TestPrecedence:
    def test_first_containerd_attempt_decides(self) -> None:
        seed = dict((case_id, m) for case_id, m, _, _ in SEED_CASES)
        message = seed["missing-tag-notfound-then-401"]
        assert "401 Unauthorized" in message
        assert classify(message).cause is Cause.IMAGE_NOT_FOUND

    def test_first_attempt_decides_over_a_rule_listed_before_its_evidence(self) -> None:
        # Read as one text, the anonymous retry's "pull access denied" (listed before "not
        # found" in RULES) would win; the attempt made with the credentials decides instead.
        image = "a.azurecr.io/x:1"
        message = (
            f'Failed to pull image "{image}": [rpc error: code = NotFound desc = failed to pull '
            f'and unpack image "{image}": failed to resolve reference "{image}": {image}: not '
            "found, rpc error: code = Unknown desc = failed to pull and unpack image "
            f'"{image}": failed to resolve reference "{image}": pull access denied, repository '
            "does not exist or may require authorization: server message: insufficient_scope: "
            "authorization failed]"
        )
        assert classify(message).cause is Cause.IMAGE_NOT_FOUND
        assert classify(message.split("[", 1)[1].split(", ", 1)[1]).cause is (
            Cause.REPOSITORY_ACCESS_DENIED
        )

    def test_second_attempt_used_when_first_says_nothing(self) -> None:
        message = (
            'Failed to pull image "a.azurecr.io/x:1": [rpc error: code = Unknown desc = failed, '
            "rpc error: code = Unknown desc = failed to authorize: 401 Unauthorized]"
        )
        assert classify(message).cause is Cause.REGISTRY_UNAUTHORIZED

    def test_dns_lookup_timeout_is_dns_not_network(self) -> None:
        assert classify("dial tcp: lookup a.azurecr.io: i/o timeout").cause is Cause.DNS_FAILURE
        assert classify("dial tcp 1.2.3.4:443: i/o timeout").cause is Cause.NETWORK_TIMEOUT

    def test_platform_not_found_is_platform_mismatch(self) -> None:
        assert (
            classify("no match for platform in manifest: not found").cause
            is Cause.PLATFORM_MISMATCH
        )

    def test_registry_code_beats_generic_words(self) -> None:
        seed = dict((case_id, m) for case_id, m, _, _ in SEED_CASES)
        diagnosis = classify(seed["aca-terminated-denied-json"])
        assert diagnosis.cause is Cause.REGISTRY_FIREWALL
        assert diagnosis.client_ip == "1.2.3.4"
        assert diagnosis.rule == "registry-code:DENIED"

    def test_specific_text_beats_reason_column(self) -> None:
        message = "dial tcp: lookup a.azurecr.io on 10.0.0.4:53: no such host"
        assert classify(message, "ImagePullUnauthorized").cause is Cause.DNS_FAILURE

    def test_tls_handshake_timeout_is_a_timeout_not_tls(self) -> None:
        assert classify("net/http: TLS handshake timeout").cause is Cause.NETWORK_TIMEOUT

    def test_eof_needs_a_word_boundary(self) -> None:
        assert classify('Failed to pull image "a/b:1": thereof').cause is Cause.UNKNOWN


class TestFactsAndRemediation:
    def test_firewall_steps_name_the_registry_and_ip(self) -> None:
        diagnosis = classify(dict((v[0], v[1]) for v in VARIANTS)["fw-acr-denied-real-ip"])
        commands = [s.command or "" for s in diagnosis.remediation]
        assert "az acr network-rule add --name contoso --ip-address 20.84.13.7" in commands

    def test_not_found_steps_list_tags_of_the_repository(self) -> None:
        diagnosis = classify(dict((v[0], v[1]) for v in VARIANTS)["nf-containerd-acr"])
        assert any(
            s.command == "az acr repository show-tags --name contoso --repository orders/api "
            "--orderby time_desc --top 20 -o table"
            for s in diagnosis.remediation
        )

    def test_unauthorized_steps_include_acrpull_and_registry_set(self) -> None:
        diagnosis = classify(SEED_CASES[3][1])
        commands = " ".join(s.command or "" for s in diagnosis.remediation)
        assert "az role assignment create --assignee-object-id" in commands
        assert "az containerapp registry set" in commands
        assert "az containerapp revision restart" in commands

    def test_dns_steps_use_nslookup_of_the_registry(self) -> None:
        diagnosis = classify(SEED_CASES[6][1])
        assert any(
            "nslookup someacr.azurecr.io" in (s.command or "") for s in diagnosis.remediation
        )

    def test_non_acr_registry_gets_no_az_acr_commands(self) -> None:
        diagnosis = classify(dict((v[0], v[1]) for v in VARIANTS)["nf-crio-ghcr"])
        assert not any("az acr" in (s.command or "") for s in diagnosis.remediation)
        assert any(
            s.command == "docker manifest inspect ghcr.io/acme/worker:v9"
            for s in diagnosis.remediation
        )

    def test_missing_facts_become_placeholders_not_inventions(self) -> None:
        diagnosis = classify(SEED_CASES[12][1])  # masked IP 'xx.xx.xxx1.xx'
        assert diagnosis.client_ip is None
        assert any("--ip-address <client-ip>" in (s.command or "") for s in diagnosis.remediation)

    def test_doc_link_and_catalog_row(self) -> None:
        for cause in Cause:
            info = CATALOG[cause]
            assert info.title and info.summary and info.steps
        assert classify("x").doc_url.startswith("https://")

    def test_json_form_has_every_field(self) -> None:
        data = classify(SEED_CASES[3][1]).to_dict()
        for name in (
            "cause",
            "title",
            "transient",
            "evidence",
            "image",
            "registry",
            "repository",
            "tag",
            "digest",
            "http_status",
            "client_ip",
            "dns_server",
            "remediation",
        ):
            assert name in data
        assert data["cause"] == "registry-unauthorized"
        assert data["http_status"] == 401


class TestLayers:
    """Wrappers relay an inner error; the inner evidence decides."""

    @pytest.mark.parametrize(
        ("message", "cause"),
        [
            (
                "(HTTP code 500) server error - Get https://registry-1.docker.io/v2/: "
                "dial tcp: lookup registry-1.docker.io on 10.0.2.3:53: server misbehaving",
                Cause.DNS_FAILURE,
            ),
            (
                "API error (500): Get https://1.dkr.ecr.eu-west-1.amazonaws.com/v2/zre/manifests/"
                "latest: no basic auth credentials",
                Cause.REGISTRY_UNAUTHORIZED,
            ),
            (
                "Docker API responded with status code=InternalServerError, response="
                '{"message":"Get https://a.azurecr.io/v2/x/manifests/1: unauthorized"}',
                Cause.REGISTRY_UNAUTHORIZED,
            ),
            (
                "13 INTERNAL: cannot resolve workspace image: Error response from daemon: "
                "denied: Your authorization token has expired. Reauthenticate and try again.",
                Cause.REGISTRY_UNAUTHORIZED,
            ),
            (
                'rpc error: code = NotFound desc = failed to pull and unpack image "a/b:1": '
                "no match for platform in manifest: not found",
                Cause.PLATFORM_MISMATCH,
            ),
        ],
    )
    def test_inner_error_beats_its_wrapper(self, message: str, cause: Cause) -> None:
        diagnosis = classify(message)
        assert diagnosis.cause is cause, diagnosis.rule
        assert diagnosis.http_status != 500

    def test_a_wrapper_alone_says_nothing(self) -> None:
        diagnosis = classify("Error response from daemon: (HTTP code 500) server error")
        assert diagnosis.cause is Cause.UNKNOWN
        assert diagnosis.confidence is Confidence.LOW

    def test_podman_first_attempt_decides(self) -> None:
        message = (
            "Error: 2 errors occurred while pulling:\n"
            " * initializing source docker://r.example.org/a/b:1: reading manifest 1 in "
            "r.example.org/a/b: name unknown\n"
            " * initializing source docker://a/b:1: reading manifest 1 in docker.io/a/b: "
            "unauthorized: authentication required"
        )
        assert classify(message).cause is Cause.IMAGE_NOT_FOUND

    def test_podman_first_attempt_decides_over_a_rule_listed_before_its_evidence(self) -> None:
        # Read as one text, the second registry's denial (listed before "not found") would win.
        first = (
            " * initializing source docker://r.example.org/a/b:1: reading manifest 1 in "
            "r.example.org/a/b: manifest unknown\n"
        )
        second = (
            " * initializing source docker://docker.io/a/b:1: reading manifest 1 in "
            "docker.io/a/b: requested access to the resource is denied"
        )
        message = "Error: 2 errors occurred while pulling:\n" + first + second
        assert classify(message).cause is Cause.IMAGE_NOT_FOUND
        assert classify(second).cause is Cause.REPOSITORY_ACCESS_DENIED

    def test_noun_before_not_found_only_counts_in_its_own_layer(self) -> None:
        assert classify("Error: unknown: repository team/app not found").cause is (
            Cause.IMAGE_NOT_FOUND
        )
        # "image" is in an outer layer; the inner layer "page not found" names no noun
        assert classify("failed to pull image: page not found").cause is Cause.UNKNOWN


class TestFamilies:
    @pytest.mark.parametrize(
        ("message", "status", "cause"),
        [
            ("error parsing HTTP 403 response body: invalid character", 403, "registry-firewall"),
            ('Error: Status 503 trying to pull repository a/b: "<html>"', 503, "registry-unavailable"),
            ('API error (400): {"message":"bad parameter"}', 400, "unknown"),
            ("request rejected (Bad Request: 400)", 400, "unknown"),
            ("GET https://r.example.org: unexpected status code 404 Not Found", 404, "image-not-found"),
            ("error pulling image configuration: received unexpected HTTP status: 530", 530, "registry-unavailable"),
            ("Error fetching https://r (remote response: 429: Too Many Requests)", 429, "rate-limited"),
            ("failed to fetch anonymous token: unexpected status: 401 Unauthorized", 401, "registry-unauthorized"),
            ("2014/10/20 13:06:15 HTTP code: 500", 500, "registry-unavailable"),
            ("error parsing HTTP 408 response body: 408 Request Time-out", 408, "network-timeout"),
        ],
    )  # fmt: skip
    def test_http_status_in_every_phrasing(self, message: str, status: int, cause: str) -> None:
        diagnosis = classify(message)
        assert (diagnosis.http_status, diagnosis.cause.value) == (status, cause), diagnosis.rule

    def test_the_body_behind_a_status_decides(self) -> None:
        expired = "403 Forbidden: denied: Your authorization token has expired."
        assert classify(expired).cause is Cause.REGISTRY_UNAUTHORIZED
        https = "unexpected status code 400 Bad Request: Client sent an HTTP request to an HTTPS server."
        assert classify(https).cause is Cause.TLS_ERROR

    @pytest.mark.parametrize(
        "message",
        [
            'Error response from daemon: Head "https://ghcr.io/v2/a/b/manifests/1": denied: denied',
            "Error response from daemon: error from registry: denied",
            'Head "https://ghcr.io/v2/a/b/manifests/latest": denied',
        ],
    )
    def test_bare_denial(self, message: str) -> None:
        diagnosis = classify(message)
        assert diagnosis.cause is Cause.REPOSITORY_ACCESS_DENIED
        assert diagnosis.rule == "denied"

    def test_denied_inside_a_phrase_is_not_bare(self) -> None:
        assert classify("the request was denied by policy").rule != "denied"

    @pytest.mark.parametrize(
        "message",
        [
            "Error response from daemon: Get https://registry-1.docker.io/v2/: Forbidden",
            'Error response from daemon: Head "https://r.example.org/v2/a/manifests/1": Forbidden.',
        ],
    )
    def test_forbidden_without_a_number_is_a_403(self, message: str) -> None:
        diagnosis = classify(message)
        assert (diagnosis.cause, diagnosis.rule) == (Cause.REGISTRY_FIREWALL, "forbidden")
        assert (diagnosis.confidence, diagnosis.http_status) == (Confidence.MEDIUM, None)

    def test_forbidden_with_its_number_or_inside_a_phrase_is_not_bare(self) -> None:
        assert classify("x: 403 Forbidden").rule == "http-status:403"
        assert classify("Head https://r/v2/a: denied: access forbidden").rule == "access-denied"
        assert classify("a forbidden word in passing").rule != "forbidden"

    @pytest.mark.parametrize(
        "message",
        [
            "Error: short-name resolution enforced but cannot prompt without a TTY",
            "short name mode is enforcing, but image name a/b:1 returns ambiguous list",
            "no registries configured while trying to pull an unqualified image",
        ],
    )
    def test_short_names_are_references_not_dns(self, message: str) -> None:
        assert classify(message).cause is Cause.INVALID_IMAGE_REFERENCE


@pytest.mark.parametrize(
    ("code", "cause"),
    [
        ("UNAUTHORIZED", Cause.REGISTRY_UNAUTHORIZED),
        ("DENIED", Cause.REPOSITORY_ACCESS_DENIED),
        ("NAME_UNKNOWN", Cause.IMAGE_NOT_FOUND),
        ("MANIFEST_UNKNOWN", Cause.IMAGE_NOT_FOUND),
        ("BLOB_UNKNOWN", Cause.IMAGE_NOT_FOUND),
        ("NAME_INVALID", Cause.INVALID_IMAGE_REFERENCE),
        ("TAG_INVALID", Cause.INVALID_IMAGE_REFERENCE),
        ("TOOMANYREQUESTS", Cause.RATE_LIMITED),
    ],
)
def test_each_registry_error_code_decides_alone(code: str, cause: Cause) -> None:
    """The OCI distribution spec's codes (and Docker Hub's), with no other word to go by."""
    for body in (f'{{"errors":[{{"code":"{code}"}}]}}', f'{{\\"code\\": \\"{code}\\"}}'):
        diagnosis = classify(body)
        assert (diagnosis.cause, diagnosis.rule) == (cause, f"registry-code:{code}"), body
        assert diagnosis.confidence is Confidence.HIGH


class TestConfidence:
    def test_a_registry_code_or_phrase_is_high(self) -> None:
        assert classify('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}').confidence is Confidence.HIGH
        assert classify("x: 401 Unauthorized").confidence is Confidence.HIGH

    def test_a_family_match_is_medium_and_likely(self) -> None:
        diagnosis = classify(
            "unexpected status from HEAD request to https://a.io/v2/: 403 Forbidden"
        )
        assert (diagnosis.confidence, diagnosis.likely) == (Confidence.MEDIUM, True)

    def test_a_generic_failure_word_is_low(self) -> None:
        diagnosis = classify("Error: ImagePullBackOff")
        assert (diagnosis.cause, diagnosis.confidence) == (Cause.UNKNOWN, Confidence.LOW)

    def test_the_reason_column_is_medium(self) -> None:
        diagnosis = classify("Error: ImagePullBackOff", "ImagePullUnauthorized")
        assert (diagnosis.confidence, diagnosis.rule) == (Confidence.MEDIUM, "reason")


class TestImages:
    @pytest.mark.parametrize(
        ("message", "image"),
        [
            ("Error: unable to pull a/b:1: 1 error occurred", "a/b:1"),
            ('Failed to inspect image "a.io/b:2": rpc error', "a.io/b:2"),
            ('failed to get sandbox image \\"k8s.gcr.io/pause:3.1\\": failed', "k8s.gcr.io/pause:3.1"),
            ("Error: initializing source docker://q.io/a/b:3: manifest unknown", "q.io/a/b:3"),
            ("Error reading manifest v9 in ghcr.io/acme/worker: manifest unknown", "ghcr.io/acme/worker:v9"),
            ("pull access denied for acme/private, repository does not exist", "acme/private"),
            ("Unable to pull 'a.io/b:4': timeout", "a.io/b:4"),
            ("cancel pulling image a.io/b:5 because of no progress in 1m0s", "a.io/b:5"),
            ("Pulling image 'reg.azurecr.io/app:tag'", "reg.azurecr.io/app:tag"),
            ("manifest for nginx:1.99 not found: manifest unknown", "nginx:1.99"),
            ('Failed to pull image "busybox": rpc error: ... image "docker.io/library/busybox:latest"', "busybox"),
            ("unknown: artifact team/app:v3 not found", "team/app:v3"),
        ],
    )  # fmt: skip
    def test_image_from_every_phrasing(self, message: str, image: str) -> None:
        assert classify(message).image == image

    @pytest.mark.parametrize(
        "message",
        [
            "no matching manifest for linux/arm64/v8 in the manifest list entries",
            "error pulling image configuration: unknown blob",
            "Error: ImagePullBackOff",
        ],
    )
    def test_no_image_is_invented(self, message: str) -> None:
        diagnosis = classify(message)
        assert (diagnosis.image, diagnosis.repository) == (None, None)


class TestContainerApps:
    def test_the_appended_pull_error_is_classified(self) -> None:
        message = (
            "Container 'api' was terminated with exit code '' and reason 'ImagePullFailure'.\n"
            "Pull image: contoso.azurecr.io/api:7 failed with exit code: 1, error:\n"
            'time="2026-08-19T07:59:26Z" level=info msg="host will try HTTPS first since it is '
            'configured for HTTP with a TLS configuration"\n'
            'ctr: failed to resolve reference "contoso.azurecr.io/api:7": '
            "contoso.azurecr.io/api:7: not found"
        )
        diagnosis = classify(message)
        assert diagnosis.cause is Cause.IMAGE_NOT_FOUND
        assert diagnosis.image == "contoso.azurecr.io/api:7"

    def test_the_https_fallback_note_is_not_an_error(self) -> None:
        diagnosis = classify('level=info msg="host will try HTTPS first since it is configured"')
        assert (diagnosis.cause, diagnosis.rule) == (Cause.UNKNOWN, "informational")

    def test_the_pull_through_cache_503_for_docker_hub_is_throttling(self) -> None:
        message = (
            'failed to resolve reference "docker.io/library/redis:latest": unexpected status from '
            "HEAD request to http://localhost:8578/v2/library/redis/manifests/latest?ns=docker.io: "
            "503 Service Unavailable"
        )
        assert classify(message).cause is Cause.RATE_LIMITED
        acr = message.replace("ns=docker.io", "ns=contoso.azurecr.io")
        assert classify(acr).cause is Cause.REGISTRY_UNAVAILABLE

    def test_managed_identity_is_a_fact(self) -> None:
        identity = (
            "/subscriptions/0000/resourceGroups/rg/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/id-web"
        )
        message = (
            "Field 'template.containers.web.image' is invalid with details: 'Invalid value: "
            f'"contoso.azurecr.io/web:1": unable to pull image using Managed identity {identity} '
            "for registry contoso.azurecr.io'"
        )
        diagnosis = classify(message)
        assert (diagnosis.cause, diagnosis.identity) == (Cause.REGISTRY_UNAUTHORIZED, identity)
        assert diagnosis.to_dict()["identity"] == identity
        assert ("identity", identity) in diagnosis.fill_key()
        # Without the image (the ARM error cut short), the server after "for registry" is named.
        bare = message.split("'Invalid value: ", 1)[0] + message.split('": ', 1)[1]
        assert classify(bare).registry == "contoso.azurecr.io"

    def test_revision_error_code_without_reason_is_unknown(self) -> None:
        message = "Error provisioning revision web--abc12. ErrorCode: [ErrImagePull]"
        assert classify(message).cause is Cause.UNKNOWN


def test_repeated_lines_are_remembered_and_long_ones_are_not() -> None:
    from classifiers.diagnose import CACHE_MAX_CHARS, _remembered

    message = 'Failed to pull image "a.io/b:1": 401 Unauthorized'
    assert classify(message) is classify(message)
    hits = _remembered.cache_info().hits
    long_line = message + " " * CACHE_MAX_CHARS
    assert classify(long_line) == classify(long_line)
    assert _remembered.cache_info().hits == hits
