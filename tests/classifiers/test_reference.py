"""Image reference parsing with Docker's defaults and the quote styles seen in logs."""

from __future__ import annotations

import pytest

from classifiers import parse_reference

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("nginx", "docker.io", "library/nginx", "latest", None),
        ("nginx:1.25", "docker.io", "library/nginx", "1.25", None),
        ("acme/app", "docker.io", "acme/app", "latest", None),
        ("docker.io/nginx:1", "docker.io", "library/nginx", "1", None),
        ("index.docker.io/acme/app:2", "docker.io", "acme/app", "2", None),
        (
            '"someacr.azurecr.io/someimage:sometag"',
            "someacr.azurecr.io",
            "someimage",
            "sometag",
            None,
        ),
        ("'ghcr.io/org/team/app:v1.2.3'", "ghcr.io", "org/team/app", "v1.2.3", None),
        ("“gcr.io/proj/app:1”", "gcr.io", "proj/app", "1", None),
        ("localhost:5000/app:dev", "localhost:5000", "app", "dev", None),
        ("localhost/app", "localhost", "app", "latest", None),
        (f"contoso.azurecr.io/api@{DIGEST}", "contoso.azurecr.io", "api", None, DIGEST),
        (f"contoso.azurecr.io/api:1@{DIGEST}", "contoso.azurecr.io", "api", "1", DIGEST),
        (
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/svc:3",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "svc",
            "3",
            None,
        ),
    ],
)
def test_parse(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = parse_reference(text)
    assert ref is not None
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        registry,
        repository,
        tag,
        digest,
    )


@pytest.mark.parametrize(
    "text", ["", "UPPER/Case", "a b", "app:", "app@sha256:xyz", "-bad/x", "a//b", ":tag"]
)
def test_invalid_references(text: str) -> None:
    assert parse_reference(text) is None


def test_acr_name() -> None:
    ref = parse_reference("contoso.azurecr.io/api:1")
    assert ref is not None and ref.is_acr and ref.registry_name == "contoso"
    hub = parse_reference("nginx")
    assert hub is not None and not hub.is_acr and hub.registry_name is None
