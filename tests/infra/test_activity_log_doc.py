"""The README's Activity Log section: the commands that send the Activity Log to the workspace
parse with the real az (tests/infra/azcli.py), and what it says pullwatch reads is what the code
does."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pullwatch.fetch.activity import (
    FAILED_STATUSES,
    MAX_PROPERTIES_CHARS,
    MESSAGE_CHARS,
    OPERATIONS,
)
from tests.infra import azcli
from tests.infra.conftest import REPO

README = REPO / "README.md"
SECTION_START = "### Send the subscription's Activity Log to the workspace"
SECTION_END = "## Causes"
SUBSCRIPTION = "6f1e2d3c-4b5a-4978-8a1b-2c3d4e5f6a7b"
WORKSPACE = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-logs"
    "/providers/Microsoft.OperationalInsights/workspaces/log-apps"
)
VALUES = {
    "<subscription-id>": SUBSCRIPTION,
    "<workspace-subscription-id>": SUBSCRIPTION,
    "<workspace-resource-group>": "rg-logs",
    "<workspace-name>": "log-apps",
}


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index(SECTION_START) : text.index(SECTION_END)]


def _script() -> str:
    [block] = re.findall(r"```bash\n(.*?)```", _section(), re.DOTALL)
    for placeholder, value in VALUES.items():
        block = block.replace(placeholder, value)
    assert "<" not in block, "an unfilled placeholder is left in the block"
    return block


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory, az_cache: Path) -> list[azcli.AzCall]:
    run = azcli.record_shell(
        "set -eu\n" + _script(),
        tmp_path_factory.mktemp("az"),
        answers=[(["monitor", "log-analytics", "workspace", "show"], [(WORKSPACE + "\n", 0)])],
        cache=az_cache,
    )
    assert run.returncode == 0, run.stderr
    return run.calls


def test_every_az_call_of_the_page_parses(calls: list[azcli.AzCall]) -> None:
    assert [c.argv[:4] for c in calls] == [
        ["monitor", "log-analytics", "workspace", "show"],
        ["monitor", "diagnostic-settings", "subscription", "create"],
        ["monitor", "diagnostic-settings", "subscription", "list"],
    ]
    for call in calls:
        assert call.parses, (call.argv, call.stderr[-500:])


def test_the_setting_sends_the_administrative_category_to_the_workspace(
    calls: list[azcli.AzCall],
) -> None:
    create = calls[1].argv
    assert create[create.index("--workspace") + 1] == WORKSPACE
    assert create[create.index("--subscription") + 1] == SUBSCRIPTION
    logs = json.loads(create[create.index("--logs") + 1])
    assert logs == [{"category": "Administrative", "enabled": True}]


def test_a_seeded_bad_option_does_not_parse(tmp_path: Path) -> None:
    call = azcli.check(
        ["monitor", "diagnostic-settings", "subscription", "create", "--name", "x",
         "--workspace-id", WORKSPACE, "--logs", "[]"],
        tmp_path,
    )  # fmt: skip
    assert not call.parses and call.returncode == 2


def test_the_page_says_what_the_code_reads() -> None:
    text = " ".join(_section().split())
    for value in (*OPERATIONS, *FAILED_STATUSES):
        assert f"`{value}`" in text, value
    assert f"{MAX_PROPERTIES_CHARS:,} characters" in text
    assert f"{MESSAGE_CHARS:,} characters" in text
