"""The azd wiring (azure.yaml, main.parameters.json), the CI workflow and the deploy guide."""

from __future__ import annotations

import json
import re

from tests.infra import bicep_syntax
from tests.infra.conftest import INFRA, REPO


def _main_params() -> dict[str, bool]:
    return bicep_syntax.declarations(bicep_syntax.parse_file(INFRA / "main.bicep")).params


def test_azure_yaml_declares_the_function_service() -> None:
    text = (REPO / "azure.yaml").read_text()
    assert re.search(r"^name: pullwatch$", text, re.MULTILINE)
    service = re.search(r"^services:\n  pullwatch:\n((?:    .*\n)+)", text, re.MULTILINE)
    assert service, "services.pullwatch missing"
    lines = {line.strip() for line in service.group(1).splitlines()}
    assert {"project: .", "language: python", "host: function"} <= lines


def test_parameters_file_sets_known_params_and_every_required_one() -> None:
    document = json.loads((INFRA / "main.parameters.json").read_text())
    given = document["parameters"]
    params = _main_params()
    assert set(given) <= set(params), set(given) - set(params)
    required = {name for name, has_default in params.items() if not has_default}
    assert required <= set(given)
    assert given["environmentName"]["value"] == "${AZURE_ENV_NAME}"
    assert given["location"]["value"] == "${AZURE_LOCATION}"
    for name, entry in given.items():
        assert re.fullmatch(r"\$\{[A-Z0-9_]+(=[^}]*)?\}", entry["value"]), name


def test_parameters_file_passes_webhooks_from_the_environment_not_literally() -> None:
    given = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    for name in ("teamsWebhookUrls", "slackWebhookUrls", "genericWebhookUrls"):
        assert given[name]["value"].endswith("=}"), f"{name}: optional, no literal default"


def test_deploy_guide_covers_every_route_and_task() -> None:
    text = (REPO / "docs" / "deploy.md").read_text()
    for needle in (
        "azd up",
        "az deployment group create",
        "func azure functionapp publish",
        "When a Teams webhook request is received",
        "Incoming Webhooks",
        "az keyvault secret set",
        "versionless",
        "tree-sitter",
        "pycep",
        "checkov",
    ):
        assert needle in text, needle


def test_readme_deploy_section_matches_the_guide() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("<!-- deploy:start -->", 1)[1].split("<!-- deploy:end -->", 1)[0]
    guide = (REPO / "docs" / "deploy.md").read_text()
    assert section.strip() == guide.strip()
