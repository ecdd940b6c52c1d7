"""classify(): the seed guide verbatim, variants for every cause, and the precedence rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from classifiers import CATALOG, Cause, classify
from tests.classifiers.seed_cases import SEED_CASES
from tests.classifiers.variant_cases import VARIANTS

SEED_GUIDE = Path(__file__).resolve().parents[3] / "shared/reference/seed-aca-image-pull-errors.md"


@pytest.mark.parametrize(
    ("message", "image", "cause"),
    [pytest.param(m, i, c, id=case_id) for case_id, m, i, c in SEED_CASES],
)
def test_seed_guide_message(message: str, image: str | None, cause: str) -> None:
    diagnosis = classify(message)
    assert diagnosis.cause.value == cause, diagnosis.evidence
    assert diagnosis.image == image


@pytest.mark.skipif(not SEED_GUIDE.exists(), reason="shared/ reference not beside the clone")
def test_every_error_block_of_the_seed_guide_is_a_case() -> None:
    """No message in the guide is left out of SEED_CASES (the guide is read, not copied)."""
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
