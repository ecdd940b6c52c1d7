"""`python -m pullwatch classify` as an on-call engineer uses it: arguments, stdin, --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.classifiers.seed_cases import SEED_CASES
from tests.cli.runner import ROOT, pullwatch


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return pullwatch("classify", *args, stdin=stdin)


def test_json_one_object_per_message() -> None:
    messages = [SEED_CASES[3][1], SEED_CASES[6][1]]
    result = run_cli("--json", *messages)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [json.loads(line)["cause"] for line in lines] == ["registry-unauthorized", "dns-failure"]
    first = json.loads(lines[0])
    assert first["image"] == "someacr.azurecr.io/image:tag"
    assert first["remediation"][0]["text"]


def test_stdin_one_message_per_line_skipping_blanks() -> None:
    stdin = "\n".join([SEED_CASES[4][1], "", SEED_CASES[12][1]]) + "\n"
    result = run_cli("--json", stdin=stdin)
    causes = [json.loads(line)["cause"] for line in result.stdout.splitlines()]
    assert causes == ["registry-firewall", "registry-firewall"]


def test_human_output_has_cause_facts_and_numbered_steps() -> None:
    result = run_cli(SEED_CASES[13][1])
    out = result.stdout
    assert out.startswith("image-not-found: Image or tag not found")
    assert "image:       someacr.azurecr.io/someimage:sometag" in out
    assert "    1. " in out and "$ az acr repository show-tags --name someacr" in out


def test_rule_and_confidence_are_shown() -> None:
    result = run_cli(SEED_CASES[13][1])
    assert "rule:        " in result.stdout and "(high confidence)" in result.stdout
    denied = 'Error response from daemon: Head "https://ghcr.io/v2/acme/x/manifests/1": denied'
    line = json.loads(run_cli("--json", denied).stdout)
    assert (line["cause"], line["rule"], line["confidence"]) == (
        "repository-access-denied",
        "denied",
        "medium",
    )


def test_reason_option() -> None:
    result = run_cli(
        "--json",
        "--reason",
        "ImagePullUnauthorized",
        "Container pull image failed with unauthorized error.",
    )
    assert json.loads(result.stdout)["cause"] == "registry-unauthorized"


def test_terminal_escapes_in_log_text_are_not_printed() -> None:
    result = run_cli('Failed to pull image "a.azurecr.io/x:1": \x1b]0;pwned\x07 401 Unauthorized')
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout


def test_bytes_that_are_not_utf8_are_read_not_fatal() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pullwatch", "classify", "--json"],
        input=b'Failed to pull image "a.azurecr.io/x:1": \xff\xfe\x00 401 Unauthorized\n',
        capture_output=True,
        env={**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0"},
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["cause"] == "registry-unauthorized"
